/**
 * The OpenTelemetry Collector that bench:peer compares the gateway with, built
 * from otelcol-builder.yaml by the Collector's own builder (ocb), both taken
 * from the Go module proxy with `go install` / `go build`. Cached outside the
 * repo; built again only when the manifest, the builder version or the Go
 * version changed (their hash is stored beside the binary).
 *
 *   node --import tsx scripts/bench/peer/collector.ts   (build if needed, print the path)
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const BUILDER_MODULE = 'go.opentelemetry.io/collector/cmd/builder';
export const BUILDER_VERSION = 'v0.165.0';
export const MANIFEST = fileURLToPath(new URL('./otelcol-builder.yaml', import.meta.url));

export function cacheDir(): string {
  const root = process.env.TRAILHOUSE_CACHE ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'trailhouse');
  return join(root, 'otelcol-0.165');
}

/** Runs a command, its output to `log`; rejects with the log's tail and what to do. */
function run(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv; log: string; what: string }): Promise<void> {
  return new Promise((resolve, reject) => {
    // nice: the build takes minutes of both cores on a machine others share.
    const p = spawn('nice', ['-n', '10', cmd, ...args], { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.stderr.on('data', (c: Buffer) => (out += c.toString()));
    p.on('error', (err) => reject(new Error(`${opts.what}: could not run ${cmd}: ${err.message} (is Go installed and on PATH?)`)));
    p.on('exit', (code, signal) => {
      writeFileSync(opts.log, out);
      if (code === 0) return resolve();
      const tail = out.trim().split('\n').slice(-25).join('\n');
      reject(new Error(`${opts.what} failed (${signal ?? `exit ${code}`}); full log ${opts.log}:\n${tail}`));
    });
  });
}

function goVersion(): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('go', ['env', 'GOVERSION'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (c: Buffer) => (out += c.toString()));
    p.on('error', (err) => reject(new Error(`Go is needed to build the Collector (go not found: ${err.message}); install Go 1.26 or newer`)));
    p.on('exit', (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(`go env GOVERSION failed (exit ${code})`))));
  });
}

/** Path of the Collector binary, built first when missing or stale. */
export async function ensureCollector(say: (s: string) => void = () => undefined): Promise<string> {
  const dir = cacheDir();
  const bin = join(dir, 'otelcol-peer');
  const stamp = join(dir, 'otelcol-peer.sha256');
  const manifest = readFileSync(MANIFEST, 'utf8');
  const go = await goVersion();
  const hash = createHash('sha256').update(`${BUILDER_MODULE}@${BUILDER_VERSION}\n${go}\n${manifest}`).digest('hex');
  if (existsSync(bin) && existsSync(stamp) && readFileSync(stamp, 'utf8').trim() === hash) return bin;

  mkdirSync(dir, { recursive: true });
  const t0 = Date.now();
  say(`building the Collector (${BUILDER_MODULE}@${BUILDER_VERSION}, ${go}) into ${dir}; the first build takes minutes`);
  const env = { ...process.env, GOBIN: join(dir, 'bin'), GOFLAGS: `${process.env.GOFLAGS ?? ''} -buildvcs=false`.trim() };
  await run('go', ['install', `${BUILDER_MODULE}@${BUILDER_VERSION}`], { cwd: dir, env, log: join(dir, 'builder-install.log'), what: `go install ${BUILDER_MODULE}@${BUILDER_VERSION}` });
  const out = join(dir, 'build');
  rmSync(out, { recursive: true, force: true });
  // The committed manifest names a relative output path; the cached copy names the cache.
  const config = join(dir, 'otelcol-builder.yaml');
  if (!/^ {2}output_path: .*$/m.test(manifest)) throw new Error(`${MANIFEST}: dist.output_path line not found`);
  writeFileSync(config, manifest.replace(/^ {2}output_path: .*$/m, `  output_path: ${JSON.stringify(out)}`));
  await run(join(dir, 'bin', 'builder'), ['--config', config], { cwd: dir, env, log: join(dir, 'build.log'), what: 'the Collector builder (ocb)' });
  const built = join(out, 'otelcol-peer');
  if (!existsSync(built)) throw new Error(`the builder finished but ${built} is missing (log ${join(dir, 'build.log')})`);
  copyFileSync(built, `${bin}.tmp`);
  renameSync(`${bin}.tmp`, bin);
  writeFileSync(stamp, `${hash}\n`);
  say(`built ${bin} in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  return bin;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  console.log(await ensureCollector((s) => console.error(`bench:peer: ${s}`)));
}
