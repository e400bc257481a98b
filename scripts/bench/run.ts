/**
 * `npm run bench`: end-to-end throughput of the default embedded pipeline.
 *
 * Starts `trailhouse run` in its own process with ./pipeline.yaml (OTLP →
 * memory_limiter → redaction → durable spool → ClickHouse embedded), moved onto
 * free ports and a temporary data directory, drives it with the load generator in a second
 * process, waits until every accepted record is stored and the engine's
 * background merges they set off are done (billed to that phase), and reports records
 * per second, records per CPU-second of the pipeline process (embedded engine
 * included: it runs in that process), peak RSS, and the time from request to
 * answer (p50/p90/p99/max) under that closed loop.
 *
 *   npm run bench [-- --batches 60 --per-batch 1000 --concurrency 8 --config FILE --phases logs,traces,zipkin,jaeger,loki,datadog,beats,fluentforward,syslog --auth --no-integrity --back correlate,audit --cpu-prof DIR --node-flags "--single-threaded-gc"]
 *
 * --back LIST: the pipelines behind the spool keep only the listed
 * processors (`none`: none), so runs with `none`, `correlate`,
 * `correlate,audit` and without the flag give each stage's cost.
 *
 * --no-integrity: audit rows are written without the signed Merkle log
 * (processors.audit.integrity.enabled: false); each phase reports
 * audit_rows, so interleaved runs with and without give the log's CPU per
 * audit row.
 *
 * --auth: the OTLP and Zipkin receivers authenticate every request with the
 * bearertokenauth extension (the load generator sends the token), to measure
 * what authentication costs per record.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { flag, parseArgs } from '../../bin/commands/args.ts';
import { cpuSeconds, peakRssMiB, threadCpu, threadDelta } from './proc.ts';
import { isShipBPhase, shipBReceivers, type ShipBPhase } from './ship-b.ts';
import { pipelineNodeFlags } from './start-flags.ts';

const args = parseArgs(process.argv.slice(2), ['auth'], ['node-flags']);
const batches = Number(flag(args, 'batches') ?? 60);
const perBatch = Number(flag(args, 'per-batch') ?? 1000);
const concurrency = Number(flag(args, 'concurrency') ?? 8);
// --cpu-prof DIR: V8 CPU profile of the pipeline process, written when it exits.
const cpuProf = flag(args, 'cpu-prof');
// --node-flags "...": node/V8 flags for the pipeline process instead of npm start's (e.g. "--v8-pool-size=4" to compare).
// (A value flag: its value starts with "--" and must not be taken for the next flag.)
// Without it, the flags npm start runs the pipeline with (package.json).
const nodeFlags = pipelineNodeFlags(flag(args, 'node-flags'));

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}


async function query(url: string, sql: string): Promise<string> {
  const r = await fetch(`${url}/?query=${encodeURIComponent(sql)}`);
  const t = await r.text();
  if (!r.ok) throw new Error(`query failed (${r.status}): ${t}`);
  return t.trim();
}

/**
 * Rows the store accepted into `table`, from the pipeline's own counter
 * (trailhouse_store_inserted_rows, `_total` only with the reader's without_type_suffix: false) on the metrics endpoint, or
 * undefined when the build has none. Watching it instead of querying the
 * store keeps the bench from billing its own reads to the pipeline: every
 * query is admitted by the engine's parser and stored as an access event,
 * work a pipeline nobody queries does not do.
 */
async function insertedRows(table: string): Promise<number | undefined> {
  const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
  const m = new RegExp(`^trailhouse_store_inserted_rows(?:_total)?\\{table="${table.replace('.', '\\.')}"\\} (\\d+)`, 'm').exec(text);
  return m ? Number(m[1]) : undefined;
}

async function storedSince(table: string, before: number, insertedBefore: number | undefined): Promise<number> {
  const inserted = await insertedRows(table);
  if (inserted !== undefined) return inserted - (insertedBefore ?? 0);
  return Number(await query(`http://127.0.0.1:${q}`, `SELECT count() FROM ${table}`)) - before;
}

async function waitUntil(fn: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn().catch(() => false)) return;
    // Polls are queries of the store, which cost CPU in the measured process
    // (each is admitted and audited): once a second, not five times.
    await new Promise((r) => setTimeout(r, 1000));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const dir = mkdtempSync(join(tmpdir(), 'th-bench-'));
const [http, grpc, q, metrics, zipkin, jaegerUdp] = await Promise.all([freePort(), freePort(), freePort(), freePort(), freePort(), freePort()]);
const phaseList = (flag(args, 'phases') ?? 'logs,traces,zipkin,jaeger').split(',') as Array<'logs' | 'traces' | 'zipkin' | 'jaeger' | ShipBPhase | 'fluentforward' | 'syslog'>;
// By default the bench runs ./pipeline.yaml itself, moved onto free ports and a
// temporary data directory, so the figures are those of what `npm start` runs.
const config = join(dir, 'bench.yaml');
const base = parseYaml(readFileSync(flag(args, 'config') ?? 'pipeline.yaml', 'utf8')) as Record<string, any>;
base.receivers.otlp.protocols = { grpc: { endpoint: `127.0.0.1:${grpc}` }, http: { endpoint: `127.0.0.1:${http}` } };
for (const [id, ex] of Object.entries<any>(base.exporters ?? {})) {
  // A clickhouse exporter naming a store extension has no location keys of its own (see below).
  if (id.split('/')[0] === 'clickhouse' && !ex?.store) Object.assign(ex, { path: join(dir, 'data'), query_endpoint: `127.0.0.1:${q}` });
}
// Processors that share the embedded engine (correlate, audit) must name the same data directory.
for (const pr of Object.values<any>(base.processors ?? {})) {
  if (pr && typeof pr === 'object' && 'path' in pr && !pr.store) pr.path = join(dir, 'data');
}
for (const [id, ext] of Object.entries<any>(base.extensions ?? {})) {
  if (id.split('/')[0] === 'file_storage') ext.directory = join(dir, 'queue');
  if (id.split('/')[0] === 'health_check') ext.endpoint = '127.0.0.1:0';
  if (id.split('/')[0] === 'clickhouse_store') Object.assign(ext, { path: join(dir, 'data'), query_endpoint: `127.0.0.1:${q}` });
}
if (base.receivers.zipkin) base.receivers.zipkin = { endpoint: `127.0.0.1:${zipkin}` };
const authToken = args.flags.has('auth') ? randomBytes(24).toString('hex') : undefined;
if (authToken) {
  base.extensions = { ...base.extensions, bearertokenauth: { token: authToken } };
  base.service.extensions = [...(base.service.extensions ?? []), 'bearertokenauth'];
  for (const p of Object.values<any>(base.receivers.otlp.protocols)) p.auth = { authenticator: 'bearertokenauth' };
  if (base.receivers.zipkin) base.receivers.zipkin.auth = { authenticator: 'bearertokenauth' };
}
// `--no-integrity`: audit rows written without the signed Merkle log, to measure what the log costs.
if (args.flags.has('no-integrity')) {
  for (const [id, pr] of Object.entries<any>(base.processors ?? {})) if (id.split('/')[0] === 'audit') pr.integrity = { ...pr.integrity, enabled: false };
}
// `--back correlate,audit` (or `none`): the pipelines behind the spool keep only these of their
// processors, in their order, to see what each stage costs (BENCHMARKS.md, "by stage").
const back = flag(args, 'back');
if (back !== undefined) {
  const keep = back === 'none' ? [] : back.split(',');
  const known = new Set(Object.keys(base.processors ?? {}));
  const unknown = keep.filter((k) => !known.has(k));
  if (unknown.length) throw new Error(`--back: no processor ${unknown.join(', ')} in the config (it has ${[...known].join(', ')})`);
  for (const p of Object.values<any>(base.service.pipelines)) {
    if (p.receivers.includes('spool')) p.processors = (p.processors ?? []).filter((id: string) => keep.includes(id));
  }
}
if (base.receivers.jaeger) base.receivers.jaeger = { protocols: { thrift_compact: { endpoint: `127.0.0.1:${jaegerUdp}` } } };
for (const id of Object.keys(base.receivers)) if (!['otlp', 'spool', 'zipkin', 'jaeger'].includes(id)) delete base.receivers[id];
for (const p of Object.values<any>(base.service.pipelines)) p.receivers = p.receivers.filter((r: string) => base.receivers[r] !== undefined);
const shipB = await shipBReceivers(base, phaseList, freePort); // loki, datadog, beats (issue 20)
// Shipper receivers (fluentforward, syslog), each only for its own phase, beside otlp in the logs ingest pipeline;
// their senders are scripts/bench/shippers-forward-syslog.ts.
const shipperPorts: Record<string, number> = {};
for (const p of phaseList) if (p === 'fluentforward' || p === 'syslog') shipperPorts[p] ??= await freePort();
if (shipperPorts.fluentforward) base.receivers.fluentforward = { endpoint: `127.0.0.1:${shipperPorts.fluentforward}` };
if (shipperPorts.syslog) base.receivers.syslog = { protocol: 'rfc5424', enable_octet_counting: true, tcp: { listen_address: `127.0.0.1:${shipperPorts.syslog}` } };
for (const [name, p] of Object.entries<any>(base.service.pipelines)) if (name.startsWith('logs') && p.receivers.includes('otlp')) p.receivers.push(...Object.keys(shipperPorts));
base.service.telemetry = { metrics: { address: `127.0.0.1:${metrics}` }, logs: { level: 'warn' } };
writeFileSync(config, stringifyYaml(base));

let pipeline: ChildProcess | undefined;
try {
  pipeline = spawn(process.execPath, [...nodeFlags, ...(cpuProf ? ['--cpu-prof', '--cpu-prof-dir', cpuProf] : []), 'bin/trailhouse.mjs', 'run', '--config', config], { stdio: ['ignore', 'inherit', 'inherit'] });
  const qurl = `http://127.0.0.1:${q}`;
  await waitUntil(async () => (await query(qurl, 'SELECT 1')) === '1', 60_000, 'the pipeline to start');
  await waitUntil(async () => (await fetch(`http://127.0.0.1:${http}/v1/logs`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', ...(authToken ? { authorization: `Bearer ${authToken}` } : {}) } })).ok, 30_000, 'OTLP');

  const pid = pipeline.pid!;
  const phases: Record<string, unknown> = {};
  let ok = true;
  for (const signal of phaseList) {
    const table = signal === 'logs' || isShipBPhase(signal) || shipperPorts[signal] ? 'otel.otel_logs' : 'otel.otel_traces';
    const target = isShipBPhase(signal) ? shipB[signal]! : signal === 'zipkin' ? `http://127.0.0.1:${zipkin}` : signal === 'jaeger' ? `udp://127.0.0.1:${jaegerUdp}` : `http://127.0.0.1:${http}`;
    const before = Number(await query(qurl, `SELECT count() FROM ${table}`));
    const auditBefore = Number(await query(qurl, 'SELECT count() FROM otel.audit_events').catch(() => '0'));
    const insertedBefore = await insertedRows(table);
    if (insertedBefore === undefined) console.error(`(no row counter for ${table} on the metrics endpoint: watching with queries)`);
    const cpu0 = cpuSeconds(pid);
    const threads0 = threadCpu(pid);
    const t0 = Date.now();
    const loadArgs = [target, String(batches), String(perBatch), String(concurrency)];
    const genArgs = shipperPorts[signal]
      ? ['scripts/bench/shippers-forward-syslog.ts', signal, String(shipperPorts[signal]), String(batches * perBatch * 2), String(concurrency)]
      : isShipBPhase(signal)
        ? ['scripts/bench/ship-b.ts', signal, ...loadArgs]
        : ['scripts/bench/loadgen.ts', ...loadArgs, signal];
    const gen = spawn(process.execPath, ['--import', 'tsx', ...genArgs], {
      stdio: ['ignore', 'pipe', 'inherit'],
      env: authToken ? { ...process.env, BENCH_BEARER_TOKEN: authToken } : process.env,
    });
    let out = '';
    gen.stdout!.on('data', (c) => (out += c));
    const code = await new Promise<number>((r) => gen.on('exit', (c) => r(c ?? 1)));
    if (code !== 0) throw new Error(`load generator failed (${code})`);
    const sent = JSON.parse(out) as { logs: number; spans: number; refusals: number; ack_ms?: unknown };
    const accepted = signal === 'logs' || isShipBPhase(signal) || shipperPorts[signal] ? sent.logs : sent.spans;
    let stored = 0;
    // UDP has no acknowledgement: wait until the count stops growing.
    let last = -1;
    await waitUntil(async () => {
      stored = await storedSince(table, before, insertedBefore);
      if (signal === 'jaeger') {
        const settled = stored === last && stored > 0;
        last = stored;
        if (settled) await new Promise((r) => setTimeout(r, 2000));
        return settled && (await storedSince(table, before, insertedBefore)) === stored;
      }
      return stored >= accepted;
    }, 300_000, `all accepted ${signal} to be stored`);
    const wall = (Date.now() - t0) / 1000;
    // The counter said so; the table has the last word.
    stored = Number(await query(qurl, `SELECT count() FROM ${table}`)) - before;
    // The merges this phase's inserts set off are part of its cost, and must
    // not be billed to the next phase: wait until the engine runs none (3
    // quiet polls, at most 60 s).
    let quiet = 0;
    await waitUntil(async () => {
      quiet = Number(await query(qurl, 'SELECT count() FROM system.merges')) === 0 ? quiet + 1 : 0;
      if (quiet < 3) await new Promise((r) => setTimeout(r, 250));
      return quiet >= 3;
    }, 60_000, 'background merges to finish');
    const cpu = cpuSeconds(pid) - cpu0;
    const threads = threadDelta(threads0, threadCpu(pid));
    const auditRows = Number(await query(qurl, 'SELECT count() FROM otel.audit_events').catch(() => '0')) - auditBefore;
    if (signal !== 'jaeger') ok &&= stored === accepted;
    // A phase named twice (`--phases logs,logs`) reports its later runs as logs#2, …: the
    // first run of a phase pays the JIT's warm-up and the heap's growth.
    let key: string = signal;
    for (let n = 2; key in phases; n++) key = `${signal}#${n}`;
    phases[key] = {
      accepted,
      stored,
      stored_equals_accepted: stored === accepted,
      ...(signal === 'jaeger' ? { note: 'UDP: sent, not acknowledged; drops are counted by the receiver' } : {}),
      refusals: sent.refusals,
      // Audit events classified from the phase's records (and access events of the bench's own polls).
      audit_rows: auditRows,
      // Request to answer, with `concurrency` senders in a closed loop (saturating: queueing
      // included); `npm run bench:ack` measures it at a steady half-capacity rate.
      ...(sent.ack_ms ? { ack_ms: sent.ack_ms } : {}),
      wall_seconds: +wall.toFixed(2),
      pipeline_cpu_seconds: +cpu.toFixed(2),
      per_second: Math.round(stored / wall),
      per_cpu_second: Math.round(stored / cpu),
      thread_cpu_seconds: threads,
    };
  }
  const report = {
    machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    node: process.version,
    workload: { batches, requests_per_batch: perBatch, records_per_request: 2, concurrency },
    ...phases,
    peak_rss_mib: peakRssMiB(pid),
  };
  console.log(JSON.stringify(report, null, 2));
  if (!ok) process.exitCode = 1;
} finally {
  pipeline?.kill('SIGTERM');
  await new Promise((r) => (pipeline ? pipeline.once('exit', r) : r(null)));
  rmSync(dir, { recursive: true, force: true });
}
