/**
 * `npm run bench:ack`: how long a sender waits for its answer from the
 * default pipeline (./pipeline.yaml on free ports and a temporary data
 * directory, fsync on, embedded engine), at a steady rate.
 *
 * First a closed-loop burst measures what the pipeline stores per second on
 * this machine (the engine's insert counter, from its first row of the burst
 * to its last: the correlation window is latency, not capacity); then
 * senders post OTLP/HTTP protobuf requests of mesh-shaped records
 * (workload.ts), logs and spans alternately, open loop at half that rate
 * (`--rate` sets it instead), and the time from each request to its answer
 * is recorded. Prints p50/p90/p99/max and the rate achieved, and checks that
 * every accepted record was stored.
 *
 *   npm run bench:ack [-- --seconds 20 --rate 10000 --per-request 100 --calibrate-records 200000 --cpu-prof DIR --no-fsync --nice N --node-flags "--v8-pool-size=4"]
 *
 * --nice N: the spool receiver's `nice` (the pipeline thread's priority
 * below the front's; 0 runs both alike), to compare.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { flag, parseArgs } from '../../bin/commands/args.ts';
import { encodeLogsProto, encodeTracesProto } from '../../core/otlp/index.ts';
import { logRecordCount, spanCount } from '../../core/model.ts';
import { count, defaultPipelineOnFreePorts } from '../../test/default-pipeline.ts';
import { Trailhouse } from '../../test/process.ts';
import { median, percentiles } from './percentiles.ts';
import { makeBatch } from './workload.ts';
import { pipelineNodeFlags } from './start-flags.ts';

const args = parseArgs(process.argv.slice(2), ['no-fsync'], ['node-flags']);
const seconds = Number(flag(args, 'seconds') ?? 20);
const perRequest = Number(flag(args, 'per-request') ?? 100);
const calibrateRecords = Number(flag(args, 'calibrate-records') ?? 200_000);
const fixedRate = flag(args, 'rate');
/** Requests in flight at most: past it the pipeline is not keeping up, and the bench says so. */
const MAX_IN_FLIGHT = 512;

interface Body {
  path: string;
  body: Uint8Array<ArrayBuffer>;
  n: number;
}

/** Pre-encoded requests, logs and spans alternately, so the sender's own CPU does not set the pace. */
function bodies(n: number, seed: number): Body[] {
  const out: Body[] = [];
  for (let i = 0; out.length < n; i++) {
    const b = makeBatch(perRequest / 2, seed + i);
    out.push({ path: '/v1/logs', body: new Uint8Array(encodeLogsProto(b.logs)), n: logRecordCount(b.logs) });
    out.push({ path: '/v1/traces', body: new Uint8Array(encodeTracesProto(b.traces)), n: spanCount(b.traces) });
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'th-ack-'));
const STALL_SCRAPE_MS = 250;
const p = await defaultPipelineOnFreePorts();
// --no-fsync: the queue without fsync, to see how much of the tail is the disk's.
if (process.argv.includes('--no-fsync')) (p.cfg.extensions as { file_storage: { fsync: boolean } }).file_storage.fsync = false;
// The node flags npm start uses (one V8 helper thread), or --node-flags "..." instead, to compare.
const nodeFlags = pipelineNodeFlags(flag(args, 'node-flags'));
const nice = flag(args, 'nice');
if (nice !== undefined) {
  const r = p.cfg.receivers as Record<string, Record<string, unknown> | null>;
  r.spool = { ...(r.spool ?? {}), nice: Number(nice) };
}
// --cpu-prof DIR: V8 CPU profile of the pipeline process, written when it exits.
const cpuProf = flag(args, 'cpu-prof');
// The self-metrics' sliding window as long as the bench's scrape interval (watchStalls), so each
// scrape sees about the quarter second since the last one.
const pipeline = await Trailhouse.start(dir, 'pipeline', p.yaml(), { TRAILHOUSE_METRICS_WINDOW: `${STALL_SCRAPE_MS}ms` }, [...nodeFlags, ...(cpuProf ? ['--cpu-prof', '--cpu-prof-dir', cpuProf] : [])]);
const base = `http://127.0.0.1:${p.http}`;
const accepted = { logs: 0, spans: 0 };
let refusals = 0;

/**
 * The sender's client: node:http with a keep-alive agent, as the OpenTelemetry
 * JS SDK's OTLP/HTTP exporter sends (fetch costs the sender more per request,
 * which shows up as latency on a two-core machine).
 */
const agent = new Agent({ keepAlive: true, maxSockets: MAX_IN_FLIGHT });

function send(b: Body): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(base + b.path, { method: 'POST', agent, headers: { 'content-type': 'application/x-protobuf', 'content-length': b.body.length } }, (res) => {
      res.on('data', () => undefined);
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(b.body);
  });
}

async function post(b: Body): Promise<number> {
  const status = await send(b);
  if (status === 200) {
    if (b.path === '/v1/logs') accepted.logs += b.n;
    else accepted.spans += b.n;
  } else refusals++;
  return status;
}

/**
 * Log records and spans the store accepted, from the pipeline's own counter
 * (trailhouse_store_inserted_rows_total): polling it costs the pipeline no
 * query.
 */
async function stored(): Promise<number> {
  const text = await (await fetch(`http://127.0.0.1:${p.metrics}/metrics`)).text();
  let n = 0;
  for (const table of ['otel.otel_logs', 'otel.otel_traces']) {
    // `_total` only with the metrics reader's without_type_suffix: false.
    const m = new RegExp(`^trailhouse_store_inserted_rows(?:_total)?\\{table="${table.replace('.', '\\.')}"\\} (\\d+)`, 'm').exec(text);
    // Before the table's first insert the counter has no series yet.
    n += m ? Number(m[1]) : 0;
  }
  if (n === 0 && !/^trailhouse_store_inserted_rows/m.test(text)) return rows();
  return n;
}

/** One scrape's figures of where the pipeline's time went (core/telemetry/process-metrics.ts, file_storage). */
async function scrape(): Promise<Record<string, number>> {
  const text = await (await fetch(`http://127.0.0.1:${p.metrics}/metrics`)).text();
  const out: Record<string, number> = {};
  for (const line of text.split('\n')) {
    const m = /^(trailhouse_(?:event_loop_delay_seconds|gc_pause_seconds|gc_pause_longest_seconds|queue_fsync_seconds|queue_fsync_longest_seconds|queue_fsyncs|queue_write_seconds|receiver_ack_seconds)(?:_total)?)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
    if (m) out[m[1]! + (m[2] ?? '')] = Number(m[3]);
  }
  return out;
}

/**
 * Scrapes every 250 ms while the steady load runs (the pipeline's metrics
 * window is set to the same length): the slowest the event loop and the
 * queue's fsync were in each window, the GC's pauses; so a tail can be told
 * apart (the disk, the collector, or work on the thread).
 */
function watchStalls(): () => Promise<Record<string, unknown>> {
  const windows: Array<Record<string, number>> = [];
  let first: Record<string, number> | undefined;
  let stop = false;
  const loop = (async () => {
    first = await scrape();
    while (!stop) {
      await new Promise((r) => setTimeout(r, STALL_SCRAPE_MS));
      windows.push(await scrape());
    }
  })();
  return async () => {
    stop = true;
    await loop;
    const last = windows[windows.length - 1] ?? {};
    const key = (prefix: string) => Object.keys(last).filter((k) => k.startsWith(prefix));
    const maxOf = (k: string) => Math.max(0, ...windows.map((w) => w[k] ?? 0));
    const delta = (k: string) => (last[k] ?? 0) - (first?.[k] ?? 0);
    const ms = (x: number) => Math.round(x * 10_000) / 10;
    const loopMax = 'trailhouse_event_loop_delay_seconds{quantile="1"}';
    const ackP99 = 'trailhouse_receiver_ack_seconds{quantile="0.99",receiver="otlp",transport="http"}';
    const ackMax = 'trailhouse_receiver_ack_seconds{quantile="1",receiver="otlp",transport="http"}';
    const fsyncLongest = key('trailhouse_queue_fsync_longest_seconds');
    const fsyncs = key('trailhouse_queue_fsyncs').reduce((a, k) => a + delta(k), 0);
    const fsyncSeconds = key('trailhouse_queue_fsync_seconds').reduce((a, k) => a + delta(k), 0);
    return {
      windows_of_250ms: windows.length,
      event_loop_delay_max_ms: ms(maxOf(loopMax)),
      windows_with_loop_delay_over_25ms: windows.filter((w) => (w[loopMax] ?? 0) > 0.025).length,
      fsyncs,
      fsync_mean_ms: fsyncs ? ms(fsyncSeconds / fsyncs) : 0,
      fsync_longest_ms: ms(Math.max(0, ...fsyncLongest.map(maxOf))),
      windows_with_fsync_over_25ms: windows.filter((w) => fsyncLongest.some((k) => (w[k] ?? 0) > 0.025)).length,
      gc_pause_ms: Object.fromEntries(key('trailhouse_gc_pause_seconds').map((k) => [/kind="(\w+)"/.exec(k)?.[1] ?? k, ms(delta(k))])),
      gc_pause_longest_ms: ms(maxOf('trailhouse_gc_pause_longest_seconds')),
      windows_with_gc_pause_over_25ms: windows.filter((w) => (w.trailhouse_gc_pause_longest_seconds ?? 0) > 0.025).length,
      // The pipeline's own view of the same requests (trailhouse_receiver_ack_seconds: from handing the records on to the answer).
      pipeline_ack_p99_ms_median_window: ms(median(windows.map((w) => w[ackP99] ?? 0))),
      pipeline_ack_max_ms: ms(maxOf(ackMax)),
    };
  };
}

/** Log records and spans in the tables (the counter's check, and its stand-in where a build has none). */
async function rows(): Promise<number> {
  return (await count(p.query, 'SELECT count() FROM otel.otel_logs')) + (await count(p.query, 'SELECT count() FROM otel.otel_traces'));
}

/** Waits until `records` more than `before` are stored; returns when the first and the last of them were seen. */
async function untilStored(before: number, records: number, what: string): Promise<{ first: number; last: number }> {
  const end = Date.now() + 300_000;
  let first = 0;
  for (;;) {
    pipeline.assertRunning();
    const now = (await stored()) - before;
    if (now > 0 && first === 0) first = performance.now();
    if (now >= records) return { first, last: performance.now() };
    if (Date.now() > end) throw new Error(`timed out waiting for ${what} to be stored (${now} of ${records})`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

try {
  // Capacity: closed loop, 8 senders, until everything accepted is stored.
  let rate = Number(fixedRate ?? 0);
  if (!fixedRate) {
    const burst = bodies(Math.ceil(calibrateRecords / perRequest), 1_000_000);
    let next = 0;
    const before = await stored();
    await Promise.all(Array.from({ length: 8 }, async () => {
      while (next < burst.length) {
        const b = burst[next++]!;
        while ((await post(b)) !== 200) await new Promise((r) => setTimeout(r, 100));
      }
    }));
    const records = accepted.logs + accepted.spans;
    const { first, last } = await untilStored(before, records, 'the calibration burst');
    const capacity = records / Math.max(1, (last - first) / 1000);
    rate = Math.round(capacity / 2);
    console.error(`capacity ≈ ${Math.round(capacity)} records/s stored; sending at ${rate}`);
  }
  accepted.logs = accepted.spans = 0;
  const before = await stored();
  const rowsBefore = await rows();

  // Open loop: each request leaves when it is due, whatever the others are doing.
  const requestsPerSecond = rate / perRequest;
  const total = Math.max(1, Math.round(requestsPerSecond * seconds));
  const load = bodies(Math.min(total, 400), 0);
  const latencies: number[] = [];
  let inFlight = 0;
  let overloaded = 0;
  const pending: Array<Promise<void>> = [];
  const stalls = watchStalls();
  const t0 = performance.now();
  for (let i = 0; i < total; i++) {
    const due = t0 + (i * 1000) / requestsPerSecond;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    if (inFlight >= MAX_IN_FLIGHT) {
      overloaded++;
      continue;
    }
    inFlight++;
    const sent = performance.now();
    pending.push(post(load[i % load.length]!).then(() => {
      latencies.push(performance.now() - sent);
      inFlight--;
    }));
  }
  await Promise.all(pending);
  const wall = (performance.now() - t0) / 1000;
  const where = await stalls();
  const records = accepted.logs + accepted.spans;
  await untilStored(before, records, 'the steady load');
  // The counter said so; the tables have the last word.
  const storedNow = (await rows()) - rowsBefore;
  const pc = percentiles(latencies);
  console.log(JSON.stringify({
    machine: `${cpus().length} × ${cpus()[0]?.model ?? '?'}`,
    node: process.version,
    workload: { rate_records_per_second: rate, records_per_request: perRequest, seconds, fsync: true },
    requests: latencies.length,
    achieved_records_per_second: Math.round(records / wall),
    ack_ms: pc,
    stalls: where,
    refusals,
    skipped_over_in_flight_limit: overloaded,
    accepted: records,
    stored: storedNow,
    stored_equals_accepted: storedNow === records,
  }, null, 2));
  if (storedNow !== records || overloaded > 0) process.exitCode = 1;
} finally {
  agent.destroy();
  await pipeline.stop();
  rmSync(dir, { recursive: true, force: true });
}
