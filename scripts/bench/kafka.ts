/**
 * Kafka gateway and ingester throughput, each in its own `trailhouse run`
 * process, against a real broker on the same machine (KAFKA_BROKERS, or the
 * local one from scripts/kafka.sh, started if needed):
 *
 *   1. gateway:  OTLP/HTTP → memory_limiter → kafka exporter
 *      (examples/gateway.yaml's shape: per-trace keys, lz4, persistent queue
 *      joining requests after it),
 *      driven by scripts/bench/loadgen.ts in a third process; done when the
 *      exporter reports every accepted record sent (acks=all).
 *   2. ingester: kafka receiver → clickhouse exporter (embedded chDB), draining
 *      what phase 1 wrote; done when ClickHouse holds every record (CPU billed
 *      until the merges those inserts set off have finished).
 *
 * Reported per phase: records per second (wall) and per CPU-second of that
 * process (the embedded engine included for the ingester). Topics are fresh
 * per run.
 *
 *   node --import tsx scripts/bench/kafka.ts [--batches 250] [--per-batch 1000] [--concurrency 8] [--signals logs,traces] [--no-partition] [--compression none|gzip|snappy|lz4] [--queue file|memory] [--redaction] [--node-flags "--flag ..."]
 *
 * `--queue memory` runs the gateway's sending queue in memory instead of on
 * file_storage (no fsync, no second OTLP encode of every batch).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { flag, parseArgs } from '../../bin/commands/args.ts';
import { createTopics, ensureKafka, testKafka, uniqueTopic } from '../../test/kafka-broker.ts';
import { freePort } from '../../test/process.ts';
import { cpuSeconds, peakRssMiB, threadCpu, threadDelta } from './proc.ts';

const args = parseArgs(process.argv.slice(2), [], ['node-flags']);
// --node-flags "...": extra node/V8 flags for the gateway and ingester processes.
const nodeFlags = (flag(args, 'node-flags') ?? '').split(' ').filter(Boolean);
// 250 × 1000 requests × 2 records per signal: 1M records, ~20 s a phase, so the
// figures are a steady state's, not the first seconds' JIT compiling and heap growing.
const batches = Number(flag(args, 'batches') ?? 250);
const perBatch = Number(flag(args, 'per-batch') ?? 1000);
const concurrency = Number(flag(args, 'concurrency') ?? 8);
const signals = (flag(args, 'signals') ?? 'logs,traces').split(',') as Array<'logs' | 'traces'>;
const partition = !process.argv.includes('--no-partition');
const compression = flag(args, 'compression') ?? 'lz4';
const queue = flag(args, 'queue') ?? 'file';
// --redaction: examples/gateway.yaml's redaction processor before batch (its built-in rules
// pre-check each request's bytes and decode only those that may hold a secret).
const redaction = process.argv.includes('--redaction');
if (queue !== 'file' && queue !== 'memory') throw new Error(`--queue: file or memory, got ${queue}`);


async function waitUntil(fn: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await fn().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

async function metric(port: number, name: string): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split('\n')) if (line.startsWith(name)) sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  return sum;
}

// BENCH_CPU_PROF=DIR: V8 CPU profiles of the gateway and ingester processes.
const prof = process.env.BENCH_CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', process.env.BENCH_CPU_PROF] : [];

function run(config: string, file: string): ChildProcess {
  writeFileSync(file, config);
  return spawn(process.execPath, [...prof, ...nodeFlags, 'bin/trailhouse.mjs', 'run', '--config', file], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, KAFKAJS_NO_PARTITIONER_WARNING: '1' } });
}

async function stop(p: ChildProcess | undefined): Promise<void> {
  if (!p || p.exitCode !== null) return;
  p.kill('SIGTERM');
  await new Promise((r) => p.once('exit', r));
}

const brokers = await ensureKafka();
const dir = mkdtempSync(join(tmpdir(), 'th-bench-kafka-'));
const topics = { logs: uniqueTopic('bench-logs'), spans: uniqueTopic('bench-spans') };
await createTopics(brokers, [topics.logs, topics.spans], 8);
const [http, gwMetrics, query, inMetrics] = await Promise.all([freePort(), freePort(), freePort(), freePort()]);

let gateway: ChildProcess | undefined;
let ingester: ChildProcess | undefined;
try {
  const procs = redaction ? 'memory_limiter, redaction' : 'memory_limiter';
  const pipelines = signals.map((s) => `    ${s}: {receivers: [otlp], processors: [${procs}], exporters: [kafka]}`).join('\n');
  gateway = run(`
receivers:
  otlp: {protocols: {http: {endpoint: "127.0.0.1:${http}"}}}
processors:
  memory_limiter: {check_interval: 1s, limit_mib: 1024, spike_limit_mib: 256}
  redaction: {allow_all_keys: true, mask_credentials: true, mask_payment_cards: true, summary: debug}
exporters:
  kafka:
    brokers: ["${brokers}"]
    logs: {topic: ${topics.logs}}
    traces: {topic: ${topics.spans}}
    partition_traces_by_id: ${partition}
    partition_logs_by_trace_id: ${partition}
    producer: {compression: ${compression}}
    sending_queue: {${queue === 'file' ? 'storage: file_storage, ' : ''}queue_size: 20000, num_consumers: 4, batch: {flush_timeout: 200ms, min_size: 8192, max_size: 16384}}
extensions:
  file_storage: {directory: ${dir}/queue}
service:
  extensions: [file_storage]
  telemetry: {logs: {level: warn}, metrics: {address: "127.0.0.1:${gwMetrics}"}}
  pipelines:
${pipelines}
`, join(dir, 'gateway.yaml'));
  // Ready when it accepts an empty request for a signal it has a pipeline for.
  const probe = signals[0] === 'traces' ? 'traces' : 'logs';
  await waitUntil(async () => (await fetch(`http://127.0.0.1:${http}/v1/${probe}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } })).ok, 60_000, 'the gateway');

  // Phase 1: gateway.
  const gpid = gateway.pid!;
  const gcpu0 = cpuSeconds(gpid);
  const gthreads0 = threadCpu(gpid);
  const g0 = Date.now();
  const gen = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench/loadgen.ts', `http://127.0.0.1:${http}`, String(batches), String(perBatch), String(concurrency), signals.length === 2 ? 'both' : signals[0]!], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  gen.stdout!.on('data', (c) => (out += c));
  const code = await new Promise<number>((r) => gen.on('exit', (c) => r(c ?? 1)));
  if (code !== 0) throw new Error(`load generator failed (${code})`);
  const sent = JSON.parse(out) as { logs: number; spans: number; refusals: number };
  const accepted = sent.logs + sent.spans;
  await waitUntil(
    async () => (await metric(gwMetrics, 'otelcol_exporter_sent_log_records')) + (await metric(gwMetrics, 'otelcol_exporter_sent_spans')) >= accepted,
    300_000,
    'the gateway to send everything to Kafka',
  );
  const gWall = (Date.now() - g0) / 1000;
  const gCpu = cpuSeconds(gpid) - gcpu0;
  const gThreads = threadDelta(gthreads0, threadCpu(gpid));
  const gRss = peakRssMiB(gpid);
  await stop(gateway);

  // Phase 2: ingester, draining the topics.
  const inPipelines = signals.map((s) => `    ${s}: {receivers: [kafka], exporters: [clickhouse]}`).join('\n');
  ingester = run(`
receivers:
  kafka:
    brokers: ["${brokers}"]
    group_id: ${uniqueTopic('bench')}
    logs: {topic: ${topics.logs}}
    traces: {topic: ${topics.spans}}
    initial_offset: earliest
exporters:
  clickhouse:
    path: ${dir}/store
    query_endpoint: 127.0.0.1:${query}
    sending_queue: {enabled: false}
service:
  telemetry: {logs: {level: warn}, metrics: {address: "127.0.0.1:${inMetrics}"}}
  pipelines:
${inPipelines}
`, join(dir, 'ingester.yaml'));
  const q = async (sql: string) => Number((await (await fetch(`http://127.0.0.1:${query}/?query=${encodeURIComponent(sql)}`)).text()).trim());
  // Ready = the store answers; the consumer joins right after.
  await waitUntil(async () => (await q('SELECT 1')) === 1, 60_000, 'the ingester');
  const ipid = ingester.pid!;
  const icpu0 = cpuSeconds(ipid);
  const ithreads0 = threadCpu(ipid);
  const i0 = Date.now();
  let stored = 0;
  await waitUntil(async () => {
    stored = (signals.includes('logs') ? await q('SELECT count() FROM otel.otel_logs') : 0) + (signals.includes('traces') ? await q('SELECT count() FROM otel.otel_traces') : 0);
    return stored >= accepted;
  }, 600_000, 'the ingester to store everything');
  const iWall = (Date.now() - i0) / 1000;
  // The merges these inserts set off are part of their cost: bill them (the
  // engine runs none for 3 polls in a row, at most 120 s), as run.ts does.
  let quiet = 0;
  await waitUntil(async () => {
    quiet = (await q('SELECT count() FROM system.merges')) === 0 ? quiet + 1 : 0;
    if (quiet < 3) await new Promise((r) => setTimeout(r, 100));
    return quiet >= 3;
  }, 120_000, 'background merges to finish');
  const iCpu = cpuSeconds(ipid) - icpu0;
  const iThreads = threadDelta(ithreads0, threadCpu(ipid));
  const iRss = peakRssMiB(ipid);
  await new Promise((r) => setTimeout(r, 1000));
  const final = (signals.includes('logs') ? await q('SELECT count() FROM otel.otel_logs') : 0) + (signals.includes('traces') ? await q('SELECT count() FROM otel.otel_traces') : 0);

  console.log(JSON.stringify({
    machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    node: process.version,
    broker: brokers,
    workload: { signals, batches, requests_per_batch: perBatch, concurrency, records: accepted, partition_by_trace_id: partition, compression, queue, redaction },
    gateway: {
      accepted, refusals: sent.refusals, wall_seconds: +gWall.toFixed(2), cpu_seconds: +gCpu.toFixed(2),
      per_second: Math.round(accepted / gWall), per_cpu_second: Math.round(accepted / gCpu), peak_rss_mib: gRss, thread_cpu_seconds: gThreads,
    },
    ingester: {
      stored: final, stored_equals_accepted: final === accepted, wall_seconds: +iWall.toFixed(2), cpu_seconds: +iCpu.toFixed(2),
      per_second: Math.round(stored / iWall), per_cpu_second: Math.round(stored / iCpu), peak_rss_mib: iRss, thread_cpu_seconds: iThreads,
    },
  }, null, 2));
  if (final !== accepted) process.exitCode = 1;
} finally {
  await stop(gateway);
  await stop(ingester);
  const a = testKafka(brokers).admin();
  await a.connect();
  await a.deleteTopics({ topics: [topics.logs, topics.spans] }).catch(() => undefined);
  await a.disconnect();
  rmSync(dir, { recursive: true, force: true });
}
