/** Running `trailhouse run` as a child process, for crash tests (kill -9) and the benchmark. */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { StopWaiting } from './helpers.ts';

const BIN = fileURLToPath(new URL('../bin/trailhouse.mjs', import.meta.url));

/**
 * A port free right now on 127.0.0.1 (for configs that must name one, e.g. to
 * restart on the same port). Taken below Linux's ephemeral range
 * (32768–60999), which the kernel hands out as the local port of every
 * outgoing connection: a port from there can be taken by some test's client
 * between a pipeline's stop and its restart on it.
 */
export async function freePort(): Promise<number> {
  for (let i = 0; i < 64; i++) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await canListen(port)) return port;
  }
  return listenOn(0);
}

function canListen(port: number): Promise<boolean> {
  return listenOn(port).then(
    () => true,
    () => false,
  );
}

function listenOn(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => {
      const got = (s.address() as { port: number }).port;
      s.close(() => resolve(got));
    });
  });
}

export class Trailhouse {
  readonly lines: string[] = [];
  readonly exited: Promise<number | null>;
  private constructor(
    readonly proc: ChildProcess,
    readonly name: string,
  ) {
    let buf = '';
    proc.stderr!.on('data', (d: Buffer) => {
      buf += d.toString();
      const parts = buf.split('\n');
      buf = parts.pop()!;
      this.lines.push(...parts);
    });
    proc.stdout!.resume();
    this.exited = new Promise((r) => proc.once('exit', (code) => r(code)));
  }

  /** Writes `config` to `dir/name.yaml` and runs it (`nodeArgs`: flags for node, e.g. --cpu-prof); resolves once the pipeline is running. */
  static async start(dir: string, name: string, config: string, env: NodeJS.ProcessEnv = {}, nodeArgs: string[] = []): Promise<Trailhouse> {
    const file = join(dir, `${name}.yaml`);
    writeFileSync(file, config);
    const proc = spawn(process.execPath, [...nodeArgs, BIN, 'run', '--config', file], {
      cwd: dir,
      env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const t = new Trailhouse(proc, name);
    const deadline = Date.now() + 60_000;
    while (!t.lines.some((l) => l.includes('"trailhouse running"'))) {
      const code = await Promise.race([t.exited, new Promise((r) => setTimeout(() => r('wait'), 100))]);
      if (code !== 'wait') throw new Error(`${name} exited (${String(code)}) before running:\n${t.lines.slice(-20).join('\n')}`);
      if (Date.now() > deadline) throw new Error(`${name} did not start within 60s:\n${t.lines.slice(-20).join('\n')}`);
    }
    return t;
  }

  /** The last lines the process logged, for a failing test's message. */
  tail(n = 30): string {
    return `${this.name} (exit ${String(this.proc.exitCode ?? this.proc.signalCode ?? 'running')}):\n${this.lines.slice(-n).join('\n')}`;
  }

  /** Throws (with its last log lines) if the process has exited: a poll should fail at once, not time out. */
  assertRunning(): void {
    if (this.proc.exitCode !== null || this.proc.signalCode !== null) throw new StopWaiting(`${this.name} exited unexpectedly; ${this.tail()}`);
  }

  async kill9(): Promise<void> {
    this.proc.kill('SIGKILL');
    await this.exited;
  }

  async stop(): Promise<number | null> {
    this.proc.kill('SIGTERM');
    return this.exited;
  }
}
