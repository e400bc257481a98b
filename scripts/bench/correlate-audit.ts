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
import type { LogsData, TracesData } from '../../core/model.ts';
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

async function timed(label: string, bs: Batch[], run: (bs: Batch[]) => Promise<void>): Promise<{ label: string; perCpuSec: number; perSec: number; usPerRecord: number }> {
  const n = records(bs);
  const c0 = cpu();
  const t0 = performance.now();
  await run(bs);
  const cpuS = cpu() - c0;
  const wall = (performance.now() - t0) / 1000;
  return { label, perCpuSec: n / cpuS, perSec: n / wall, usPerRecord: (cpuS * 1e6) / n };
}

function correlate(over: Partial<CorrelateConfig>, next: { logs: { consumeLogs(d: LogsData): Promise<void> }; traces: { consumeTraces(d: TracesData): Promise<void> } }) {
  return new CorrelateProcessor({ id: 'correlate', config: { ...defaultCorrelateConfig(), ...where, ...over }, logger: silentLogger, metrics: new MetricsRegistry() }, next);
}

async function feed(c: CorrelateProcessor, bs: Batch[]): Promise<void> {
  await Promise.all(bs.flatMap((b) => [c.consumeTraces(b.traces), c.consumeLogs(b.logs)]));
}

async function main(): Promise<void> {
  const results = [];
  // warmup (JIT)
  {
    const rules = compileRules(defaultAuditRules());
    const c = correlate({ summary: false, wait: 1 }, { logs: { consumeLogs: async (d) => void auditRows(d, rules) }, traces: { consumeTraces: async () => {} } });
    await c.start({} as never);
    await feed(c, batches(9).slice(0, 5));
    await c.shutdown();
  }

  // 1. JS only
  {
    const rules = compileRules(defaultAuditRules());
    let events = 0;
    const c = correlate({ summary: false, wait: 1 }, { logs: { consumeLogs: async (d) => void (events += auditRows(d, rules).length) }, traces: { consumeTraces: async () => {} } });
    await c.start({} as never);
    results.push(await timed('correlate + audit, processing only', batches(1), (bs) => feed(c, bs)));
    await c.shutdown();
    console.error(`audit events per batch: ${Math.round(events / BATCHES)}`);
  }

  // 2. with writes to chDB
  let fullRate = 0;
  {
    const metrics = new MetricsRegistry();
    const audit = new AuditProcessor({ id: 'audit', config: { ...defaultAuditConfig(), ...where }, logger: silentLogger, metrics }, { logs: { consumeLogs: async () => {} } });
    const c = correlate({ wait: 1 }, { logs: audit, traces: { consumeTraces: async () => {} } });
    await audit.start({} as never);
    await c.start({} as never);
    await feed(c, batches(8).slice(0, 3)); // warm the tables
    const r = await timed('correlate + audit, with trace_summary and audit_events writes (chDB)', batches(2), (bs) => feed(c, bs));
    fullRate = r.perSec;
    results.push(r);
    await c.shutdown();
    await audit.shutdown();
  }

  // 2b/2c. which write costs what
  for (const which of ['audit_events only', 'trace_summary only'] as const) {
    const rules = compileRules(defaultAuditRules());
    const metrics = new MetricsRegistry();
    const audit = new AuditProcessor({ id: 'audit', config: { ...defaultAuditConfig(), ...where, table: 'audit_events_b' }, logger: silentLogger, metrics }, { logs: { consumeLogs: async () => {} } });
    const summaryOn = which === 'trace_summary only';
    const c = correlate({ wait: 1, summary: summaryOn, table: 'trace_summary_b', audit_table: '' }, {
      logs: summaryOn ? { consumeLogs: async (d) => void auditRows(d, rules) } : audit,
      traces: { consumeTraces: async () => {} },
    });
    if (!summaryOn) await audit.start({} as never);
    await c.start({} as never);
    await feed(c, batches(7).slice(0, 3));
    results.push(await timed(`  of which: ${which} written`, batches(6), (bs) => feed(c, bs)));
    await c.shutdown();
    await audit.shutdown();
  }

  // 3. scale: exporter insert path and OTLP decode for the same records
  {
    const exp = new ClickHouseExporter({ ...defaultClickHouseConfig(), ...where, query_endpoint: null }, silentLogger);
    await exp.start({} as never);
    let k = 0;
    const ctx = () => ({ dedupToken: `b${k++}`, attempt: 1, signal: new AbortController().signal });
    results.push(
      await timed('clickhouse exporter: encode + insert otel_logs/otel_traces (chDB)', batches(3), async (bs) => {
        for (const b of bs) await Promise.all([exp.pushLogs(b.logs, ctx()), exp.pushTraces(b.traces, ctx())]);
      }),
    );
    await exp.shutdown();
    const wire = batches(4).map((b) => ({ l: encodeLogsProto(b.logs), t: encodeTracesProto(b.traces) }));
    const bs4 = batches(4);
    results.push(
      await timed('OTLP protobuf decode (receiver)', bs4, async () => {
        for (const w of wire) {
          decodeLogsProto(w.l);
          decodeTracesProto(w.t);
        }
      }),
    );
  }

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
  const held = Array.from({ length: nBatches }, (_, i) => makeBatch(REQUESTS, 5000 + i));
  const before = heap();
  const c = correlate({ summary: false, wait: 60_000, max_traces: 10_000_000, max_items: 100_000_000 }, { logs: { consumeLogs: async () => {} }, traces: { consumeTraces: async () => {} } });
  await c.start({} as never);
  const pending = held.flatMap((b) => [c.consumeTraces(b.traces), c.consumeLogs(b.logs)]);
  const withIndex = heap();
  const heldState = c.held;
  await c.shutdown();
  await Promise.all(pending);
  held.length = 0;
  const payloadsOnly = heap();
  void payloadsOnly;

  console.log(`\nmachine: ${os.cpus().length} vCPU ${os.cpus()[0]?.model ?? ''}, load ${os.loadavg().map((x) => x.toFixed(1)).join(' ')}, node ${process.version}`);
  console.log(`workload: ${BATCHES} batches x ${REQUESTS} requests (${REQUESTS * 4} records: 2 spans + 2 access logs per request)\n`);
  console.log('| stage | records / CPU-second | records / s (wall) | CPU µs / record |');
  console.log('|---|---:|---:|---:|');
  for (const r of results) console.log(`| ${r.label} | ${Math.round(r.perCpuSec).toLocaleString('en-US')} | ${Math.round(r.perSec).toLocaleString('en-US')} | ${r.usPerRecord.toFixed(2)} |`);
  const [js, full, , , exporter, decode] = results;
  const pipeline = exporter!.usPerRecord + decode!.usPerRecord;
  console.log(`\npair with writes = ${full!.usPerRecord.toFixed(2)} µs/record vs decode + exporter ${pipeline.toFixed(2)} µs/record: ` +
    `adding the pair lowers end-to-end records/CPU-s by ${((100 * full!.usPerRecord) / (pipeline + full!.usPerRecord)).toFixed(0)}% (JS part alone: ${((100 * js!.usPerRecord) / (pipeline + js!.usPerRecord)).toFixed(0)}%)`);
  console.log(`\nmemory for a 10 s window at ${Math.round(fullRate).toLocaleString('en-US')} records/s: ${heldState.items.toLocaleString('en-US')} records in ${heldState.payloads} payloads, ${heldState.traces.toLocaleString('en-US')} traces indexed; ` +
    `heap +${((withIndex - before) / 2 ** 20).toFixed(1)} MiB (${Math.round((withIndex - before) / heldState.items)} B/record, payloads included)${gc ? '' : ' [run with --expose-gc for exact figures]'}`);
  fs.rmSync(dir, { recursive: true, force: true });
}

await main();
