/**
 * Builds lumber-send (main.go here: Elastic's go-lumber v2 client, which
 * Filebeat's Logstash output uses) with the Go toolchain, modules from the
 * Go module proxy as pinned by the committed go.sum; cached outside the repo
 * under a name hashing the sources and the Go version, like tlog-check.
 *
 *   node --import tsx scripts/peers/lumber-send/build.ts   (build if needed, print the path)
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { goBinary } from '../tlog-check/build.ts';

const SOURCE_DIR = fileURLToPath(new URL('.', import.meta.url));
const SOURCES = ['main.go', 'go.mod', 'go.sum'];

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: SOURCE_DIR, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (out += c.toString()));
    p.on('error', (e) => reject(new Error(`${what}: could not run ${cmd}: ${e.message} (is Go installed?)`)));
    p.on('exit', (code) => (code === 0 ? resolve(out) : reject(new Error(`${what} failed (exit ${code}):\n${out.trim().split('\n').slice(-25).join('\n')}`))));
  });
}

/** Path of the lumber-send binary, built first when missing or stale. */
export async function ensureLumberSend(): Promise<string> {
  const go = goBinary();
  const env: NodeJS.ProcessEnv = { ...process.env, GOFLAGS: '-mod=mod -buildvcs=false' };
  const version = (await run(go, ['env', 'GOVERSION'], env, 'go env GOVERSION')).trim();
  const h = createHash('sha256').update(version);
  for (const f of SOURCES) h.update(`\n${f}\n`).update(readFileSync(join(SOURCE_DIR, f)));
  const dir = process.env.TRAILHOUSE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'trailhouse');
  const bin = join(dir, `lumber-send-${h.digest('hex').slice(0, 16)}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  const tmp = `${bin}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await run(go, ['build', '-trimpath', '-o', tmp, '.'], env, `go build (${SOURCE_DIR})`);
    renameSync(tmp, bin);
  } finally {
    rmSync(tmp, { force: true });
  }
  return bin;
}

export interface LumberResult {
  acked: number;
  error?: string;
}

/** Sends `events` (one JSON object each) with lumber-send; resolves with what it says was ACKed. */
export function lumberSend(bin: string, addr: string, events: readonly object[], args: string[] = []): Promise<LumberResult> {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, ['-addr', addr, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('error', reject);
    p.on('exit', () => {
      try {
        resolve(JSON.parse(out) as LumberResult);
      } catch {
        reject(new Error(`lumber-send: no answer (stderr: ${err.trim()})`));
      }
    });
    p.stdin.end(events.map((e) => JSON.stringify(e)).join('\n') + '\n');
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(await ensureLumberSend());
}
