/**
 * What bench:peer starts and must stop: the bench's own Kafka broker (through
 * scripts/kafka.sh, on its own port and data directory) and the gateway under
 * test. Everything started is registered so one cleanup ends it all, on a
 * normal end, an error or Ctrl-C alike.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { testKafka } from '../../../test/kafka-broker.ts';

const KAFKA_SH = fileURLToPath(new URL('../../kafka.sh', import.meta.url));

export interface Broker {
  brokers: string;
  stop(): Promise<void>;
}

function kafkaSh(cmd: string, env: NodeJS.ProcessEnv): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('bash', [KAFKA_SH, cmd], { env, timeout: 600_000, maxBuffer: 4 << 20 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`bash scripts/kafka.sh ${cmd} failed: ${`${stderr}${stdout}`.trim().split('\n').slice(-15).join('\n')}`));
      else resolve(stdout);
    });
  });
}

/** A single-node broker of scripts/kafka.sh on `port`, with its data in `dataDir`. */
export async function startBroker(port: number, dataDir: string): Promise<Broker> {
  const env = { ...process.env, KAFKA_PORT: String(port), KAFKA_CONTROLLER_PORT: String(port + 1), KAFKA_DATA_DIR: dataDir };
  const stop = async (): Promise<void> => void (await kafkaSh('stop', env).catch((err: Error) => console.error(`bench:peer: ${err.message}`)));
  try {
    await kafkaSh('start', env);
  } catch (err) {
    await stop(); // a broker that started but did not answer in time is still ours
    // A bench killed with -9 leaves its broker behind on the port: say how to find it.
    throw new Error(`${(err as Error).message}\n(another port: --kafka-port; a broker left by a killed bench: pgrep -af 'th-bench-peer-.*kafka')`);
  }
  return { brokers: `127.0.0.1:${port}`, stop };
}

/** Sum of the topics' partition end offsets: messages produced to them so far. */
export async function endOffsets(brokers: string, topics: readonly string[]): Promise<number> {
  // A topic just created may still answer "not the leader" for a moment: ask again, within a bound.
  const deadline = Date.now() + 30_000;
  for (;;) {
    const admin = testKafka(brokers, 'bench-peer').admin();
    try {
      await admin.connect();
      let sum = 0;
      for (const t of topics) for (const p of await admin.fetchTopicOffsets(t)) sum += Number(p.high);
      return sum;
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 300));
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}

const children = new Set<ChildProcess>();

/** Starts a gateway, its output to `logFile` (printed by the bench when it fails). */
export function startGateway(cmd: string, args: string[], logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  const p = spawn(cmd, args, { stdio: ['ignore', fd, fd], env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' } });
  closeSync(fd);
  return track(p);
}

/** Registers a child (gateway or load generator) for stopAll(). */
export function track(p: ChildProcess): ChildProcess {
  children.add(p);
  p.once('exit', () => children.delete(p));
  return p;
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves once it has exited. */
export async function stopProcess(p: ChildProcess, graceMs = 20_000): Promise<void> {
  if (p.exitCode !== null || p.signalCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  const t = setTimeout(() => p.kill('SIGKILL'), graceMs);
  await exited;
  clearTimeout(t);
}

export async function stopAll(): Promise<void> {
  await Promise.all([...children].map((p) => stopProcess(p, 5_000)));
}

export function logTail(file: string, lines = 20): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}
