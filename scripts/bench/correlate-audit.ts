/**
 * correlate + audit processors on the bench workload (scripts/bench/workload.ts:
 * one trace per request, a server and a client span, one Envoy access log per
 * span with ~12 attributes; 1 request in 50 an RBAC denial, 1 in 6 on /admin).
 *
 * Three measurements, records = spans + log records, CPU from process.cpuUsage
 * (every thread of the process, the embedded engine's too):
 *  1. processors alone: correlate (no summary) → audit classification, payloads
 *     dropped after; the JS cost of the pair.
 *  2. processors with their writes: correlate (trace_summary) → audit (audit_events)
 *     on embedded chDB; what the pair adds to a pipeline.
 *  3. for scale, the same batches through the clickhouse exporter's insert path
 *     (encode + insert into otel_logs / otel_traces) and an OTLP proto decode.
 * Then memory: a 10 s window's worth of records at the rate of (2), held by
 * correlate (wait 60 s so nothing leaves), heap delta after GC.
 *
 *   node --expose-gc --import tsx scripts/bench/correlate-audit.ts [--batches 40] [--requests 512]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { flag, parseArgs } from '../../bin/commands/args.ts';
import type { LogsConsumer, TracesConsumer } from '../../core/component.ts';
import { logRecordCount, spanCount } from '../../core/model.ts';
import { decodeLogsProto, decodeTracesProto, encodeLogsProto, encodeTracesProto } from '../../core/otlp/index.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { defaultClickHouseConfig } from '../../exporters/clickhouse/config.ts';
import { ClickHouseExporter } from '../../exporters/clickhouse/exporter.ts';
import { AuditProcessor, auditRows } from '../../processors/audit/audit.ts';
import { compileRules } from '../../processors/audit/classify.ts';
import { defaultAuditConfig, defaultAuditRules } from '../../processors/audit/config.ts';
import { defaultCorrelateConfig, type CorrelateConfig } from '../../processors/correlate/config.ts';
import { CorrelateProcessor } from '../../processors/correlate/correlate.ts';
import { makeBatch, type Batch } from './workload.ts';
import { Payload } from '../../core/payload.ts';

const args = parseArgs(process.argv.slice(2));
const BATCHES = Number(flag(args, 'batches') ?? 40);
const REQUESTS = Number(flag(args, 'requests') ?? 512);
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-bench-ca-'));
const where = { endpoint: null, path: dir, username: '', password: '' };

const batches = (seed: number): Batch[] => Array.from({ length: BATCHES }, (_, i) => makeBatch(REQUESTS, seed * 1000 + i));
const records = (bs: Batch[]) => bs.reduce((n, b) => n + logRecordCount(b.logs) + spanCount(b.traces), 0);

function cpu(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
}

/**
 * Runs one stage and charges it the CPU it caused: process-wide CPU (the
 * embedded engine's threads included) until the process is idle again, so
 * background merges a stage's inserts started are not billed to the next one.
 * Wall time counts the run only.
 */
async function timed(label: string, bs: Batch[], run: (bs: Batch[]) => Promise<void>): Promise<{ label: string; perCpuSec: number; perSec: number; usPerRecord: number }> {
  const n = records(bs);
  const c0 = cpu();
  const t0 = performance.now();
  await run(bs);
  const wall = (performance.now() - t0) / 1000;
  // Settled: three quiet quarter-seconds in a row (under 10% of one core), at most 20 s.
  for (let i = 0, quiet = 0; i < 80 && quiet < 3; i++) {
    const a = cpu();
    await new Promise((r) => setTimeout(r, 250));
    quiet = cpu() - a < 0.025 ? quiet + 1 : 0;
  }
  const cpuS = cpu() - c0;
  return { label, perCpuSec: n / cpuS, perSec: n / wall, usPerRecord: (cpuS * 1e6) / n };
}

function correlate(over: Partial<CorrelateConfig>, next: { logs: LogsConsumer; traces: TracesConsumer }) {
  return new CorrelateProcessor({ id: 'correlate', config: { ...defaultCorrelateConfig(), ...where, ...over }, logger: silentLogger, metrics: new MetricsRegistry() }, next);
}

async function feed(c: CorrelateProcessor, bs: Batch[]): Promise<void> {
  await Promise.all(bs.flatMap((b) => [c.consumeTraces(Payload.traces(b.traces)), c.consumeLogs(Payload.logs(b.logs))]));
}

interface Stage {
  label: string;
  /** Untimed preparation of a round's input. */
  prepare?(bs: Batch[]): void;
  run(bs: Batch[]): Promise<void>;
  close(): Promise<void>;
}

async function stages(): Promise<Stage[]> {
  const rules = compileRules(defaultAuditRules());
  const sink = { logs: { consumeLogs: async () => {} }, traces: { consumeTraces: async () => {} } };
  const out: Stage[] = [];

  // 1. JS only: correlate (no summary) → audit classification.
  const js = correlate({ summary: false, wait: 1 }, { logs: { consumeLogs: async (d) => void auditRows(d, rules) }, traces: sink.traces });
  await js.start({} as never);
  out.push({ label: 'correlate + audit, processing only', run: (bs) => feed(js, bs), close: () => js.shutdown() });

  // 2. with their writes to chDB, and each write alone.
  const metrics = new MetricsRegistry();
  const mkAudit = (table: string) => new AuditProcessor({ id: 'audit', config: { ...defaultAuditConfig(), ...where, table }, logger: silentLogger, metrics }, sink);
  const audit = mkAudit('audit_events');
  await audit.start({} as never);
  const full = correlate({ wait: 1 }, { logs: audit, traces: sink.traces });
  await full.start({} as never);
  out.push({ label: 'correlate + audit, with trace_summary and audit_events writes (chDB)', run: (bs) => feed(full, bs), close: async () => (await full.shutdown(), await audit.shutdown()) });
  const auditB = mkAudit('audit_events_b');
  await auditB.start({} as never);
  const onlyAudit = correlate({ wait: 1, summary: false }, { logs: auditB, traces: sink.traces });
  await onlyAudit.start({} as never);
  out.push({ label: '  of which: audit_events writes alone', run: (bs) => feed(onlyAudit, bs), close: async () => (await onlyAudit.shutdown(), await auditB.shutdown()) });
  const onlySummary = correlate({ wait: 1, table: 'trace_summary_b', audit_table: '' }, { logs: { consumeLogs: async (d) => void auditRows(d, rules) }, traces: sink.traces });
  await onlySummary.start({} as never);
  out.push({ label: '  of which: trace_summary writes alone', run: (bs) => feed(onlySummary, bs), close: () => onlySummary.shutdown() });

  // 3. for scale: the exporter's insert path and the receiver's decode, same records.
  const exp = new ClickHouseExporter({ ...defaultClickHouseConfig(), ...where, query_endpoint: null }, silentLogger);
  await exp.start({} as never);
  let k = 0;
  const ctx = () => ({ dedupToken: `b${k++}`, attempt: 1, signal: new AbortController().signal });
  out.push({
    label: 'clickhouse exporter: encode + insert otel_logs/otel_traces (chDB)',
    run: async (bs) => {
      for (const b of bs) await Promise.all([exp.pushLogs(Payload.logs(b.logs), ctx()), exp.pushTraces(Payload.traces(b.traces), ctx())]);
    },
    close: () => exp.shutdown(),
  });
  let wire: Array<{ l: Uint8Array; t: Uint8Array }> = [];
  out.push({
    label: 'OTLP protobuf decode (receiver)',
    prepare: (bs) => void (wire = bs.map((b) => ({ l: encodeLogsProto(b.logs), t: encodeTracesProto(b.traces) }))),
    run: async () => {
      for (const w of wire) {
        decodeLogsProto(w.l);
        decodeTracesProto(w.t);
      }
    },
    close: async () => {},
  });
  // Engine-free stages first in each round; then the writers, whose merges run on after them.
  const order = ['OTLP protobuf decode (receiver)', 'correlate + audit, processing only', 'clickhouse exporter: encode + insert otel_logs/otel_traces (chDB)',
    '  of which: audit_events writes alone', '  of which: trace_summary writes alone', 'correlate + audit, with trace_summary and audit_events writes (chDB)'];
  return order.map((l) => out.find((st) => st.label === l)!);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const ROUNDS = Number(flag(args, 'rounds') ?? 5);
  const list = await stages();
  // Warm up: JIT, the engine's thread pools and first parts.
  for (const st of list) {
    const bs = batches(90).slice(0, 4);
    st.prepare?.(bs);
    await st.run(bs);
  }
  const per = new Map<string, { us: number[]; rate: number[] }>(list.map((st) => [st.label, { us: [], rate: [] }]));
  for (let r = 0; r < ROUNDS; r++) {
    for (const st of list) {
      const bs = batches(r * 10 + 1);
      st.prepare?.(bs);
      const res = await timed(st.label, bs, (x) => st.run(x));
      per.get(st.label)!.us.push(res.usPerRecord);
      per.get(st.label)!.rate.push(res.perSec);
    }
  }
  for (const st of list) await st.close();
  const results = list.map((st) => {
    const p = per.get(st.label)!;
    const us = median(p.us);
    return { label: st.label, perCpuSec: 1e6 / us, perSec: median(p.rate), usPerRecord: us, spread: `${Math.min(...p.us).toFixed(1)}–${Math.max(...p.us).toFixed(1)}` };
  });
  const byLabel = (l: string) => results.find((r) => r.label.startsWith(l))!;
  const fullRate = byLabel('correlate + audit, with').perSec;

  // Memory: a 10 s window at the rate of (2).
  const gc = (globalThis as { gc?: () => void }).gc;
  const heap = () => {
    gc?.();
    gc?.();
    return process.memoryUsage().heapUsed;
  };
  const perBatch = REQUESTS * 4;
  const windowRecords = Math.round(fullRate * 10);
  const nBatches = Math.max(1, Math.round(windowRecords / perBatch));
  const baseline = heap();
  const held = Array.from({ length: nBatches }, (_, i) => makeBatch(REQUESTS, 5000 + i));
  const before = heap();
  const c = correlate({ summary: false, wait: 60_000, max_traces: 10_000_000, max_items: 100_000_000 }, { logs: { consumeLogs: async () => {} }, traces: { consumeTraces: async () => {} } });
  await c.start({} as never);
  const pending = held.flatMap((b) => [c.consumeTraces(Payload.traces(b.traces)), c.consumeLogs(Payload.logs(b.logs))]);
  const withIndex = heap();
  const heldState = c.held;
  await c.shutdown();
  await Promise.all(pending);
  held.length = 0;

  console.log(`\nmachine: ${os.cpus().length} vCPU ${os.cpus()[0]?.model ?? ''}, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}, node ${process.version}`);
  console.log(`workload: ${BATCHES} batches x ${REQUESTS} requests (${REQUESTS * 4} records: 2 spans + 2 access logs per request)\n`);
  console.log(`median of ${ROUNDS} rounds (CPU µs/record range in the last column)\n`);
  console.log('| stage | records / CPU-second | records / s (wall) | CPU µs / record | range |');
  console.log('|---|---:|---:|---:|---:|');
  for (const r of results) console.log(`| ${r.label} | ${Math.round(r.perCpuSec).toLocaleString('en-US')} | ${Math.round(r.perSec).toLocaleString('en-US')} | ${r.usPerRecord.toFixed(2)} | ${r.spread} |`);
  const js = byLabel('correlate + audit, processing');
  const full = byLabel('correlate + audit, with');
  const exporter = byLabel('clickhouse exporter');
  const decode = byLabel('OTLP protobuf decode');
  const pipeline = exporter!.usPerRecord + decode!.usPerRecord;
  console.log(`\npair with writes = ${full!.usPerRecord.toFixed(2)} µs/record vs decode + exporter ${pipeline.toFixed(2)} µs/record: ` +
    `adding the pair lowers end-to-end records/CPU-s by ${((100 * full!.usPerRecord) / (pipeline + full!.usPerRecord)).toFixed(0)}% (JS part alone: ${((100 * js!.usPerRecord) / (pipeline + js!.usPerRecord)).toFixed(0)}%)`);
  console.log(`\nmemory for a 10 s window at ${Math.round(fullRate).toLocaleString('en-US')} records/s: ${heldState.items.toLocaleString('en-US')} records in ${heldState.payloads} payloads, ${heldState.traces.toLocaleString('en-US')} traces indexed; ` +
    `the payloads themselves ${((before - baseline) / 2 ** 20).toFixed(1)} MiB (${Math.round((before - baseline) / heldState.items)} B/record), ` +
    `correlate's index and queue on top ${((withIndex - before) / 2 ** 20).toFixed(1)} MiB (${Math.round((withIndex - before) / heldState.items)} B/record)${gc ? '' : ' [run with --expose-gc for exact figures]'}`);
  fs.rmSync(dir, { recursive: true, force: true });
}

await main();
