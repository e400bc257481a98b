/**
 * Builds tlog-check (main.go here: Go's sumdb/note and sumdb/tlog checking
 * our notes and proofs) with the Go toolchain, modules from the Go module
 * proxy as pinned by the committed go.sum. The binary is cached outside the
 * repo under a name that hashes the sources and the Go version, so it is
 * built again only when one of them changes.
 *
 *   node --import tsx scripts/peers/tlog-check/build.ts   (build if needed, print the path)
 */
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const SOURCE_DIR = fileURLToPath(new URL('.', import.meta.url));
const SOURCES = ['main.go', 'go.mod', 'go.sum'];

function cacheRoot(): string {
  return process.env.TRAILHOUSE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'trailhouse');
}

/** `go` on PATH, else the default install location. */
export function goBinary(): string {
  const onPath = (process.env.PATH ?? '').split(':').some((d) => d && existsSync(join(d, 'go')));
  return onPath || !existsSync('/usr/local/go/bin/go') ? 'go' : '/usr/local/go/bin/go';
}

function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; what: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('error', (e) => reject(new Error(`${opts.what}: could not run ${cmd}: ${e.message} (is Go 1.26+ installed, on PATH or in /usr/local/go?)`)));
    p.on('exit', (code, signal) => {
      if (code === 0) return resolve(out);
      reject(new Error(`${opts.what} failed (${signal ?? `exit ${code}`}):\n${(err || out).trim().split('\n').slice(-25).join('\n')}`));
    });
  });
}

/** Path of the tlog-check binary, built first when missing or stale. */
export async function ensureTlogCheck(): Promise<string> {
  const go = goBinary();
  const env: NodeJS.ProcessEnv = { ...process.env, GOFLAGS: '-mod=mod -buildvcs=false' };
  const version = (await run(go, ['env', 'GOVERSION'], { cwd: SOURCE_DIR, env, what: 'go env GOVERSION' })).trim();
  const h = createHash('sha256').update(version);
  for (const f of SOURCES) h.update(`\n${f}\n`).update(readFileSync(join(SOURCE_DIR, f)));
  const dir = cacheRoot();
  const bin = join(dir, `tlog-check-${h.digest('hex').slice(0, 16)}`);
  if (existsSync(bin)) return bin;
  mkdirSync(dir, { recursive: true });
  // Build to a private name and rename: concurrent test runs never see half a binary.
  const tmp = `${bin}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    await run(go, ['build', '-trimpath', '-o', tmp, '.'], { cwd: SOURCE_DIR, env, what: `go build (${SOURCE_DIR})` });
    renameSync(tmp, bin);
  } finally {
    rmSync(tmp, { force: true });
  }
  return bin;
}

/** Runs tlog-check on one JSON case; resolves with its JSON answer, rejects with its stderr. */
export function runTlogCheck(bin: string, input: unknown): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const p = spawn(bin, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (err += c.toString()));
    p.on('error', reject);
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`tlog-check exit ${code}: ${err.trim()}`));
      try {
        resolve(JSON.parse(out));
      } catch (e) {
        reject(new Error(`tlog-check printed no JSON (${(e as Error).message}): ${out.slice(0, 200)}`));
      }
    });
    p.stdin.end(JSON.stringify(input));
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(1, `${await ensureTlogCheck()}\n`);
}
