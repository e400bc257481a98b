/**
 * What a log record costs the process between the spool and the engine,
 * two ways, on the bench workload (scripts/bench/workload.ts: Envoy access
 * logs with ~12 attributes, their spans indexed):
 *
 *  - records: the payload decoded once, enriched and summarized (correlate),
 *    classified (audit), encoded as a Native block from the records;
 *  - bytes: the same stages on the request bytes (peek.ts enrichLogsBytes →
 *    patches, audit's classification from the bytes, encodeLogsNativeProto).
 *
 * No engine, no I/O: CPU of this process (the garbage collector's threads
 * included) per record, median of interleaved rounds. Both paths give the
 * same rows (native-proto.test.ts, peek.test.ts, audit/bytes.test.ts).
 *
 *   node --expose-gc --import tsx scripts/bench/logs-path.ts [--rounds 15] [--requests 8192]
 */
import { flag, parseArgs } from '../../bin/commands/args.ts';
import { logRecordCount } from '../../core/model.ts';
import { encodeLogsProto } from '../../core/otlp/index.ts';
import { encodeLogsNative } from '../../lib/clickhouse/native.ts';
import { encodeLogsNativeProto } from '../../lib/clickhouse/native-proto.ts';
import { classifyPayload } from '../../processors/audit/audit.ts';
import { compileRules } from '../../processors/audit/classify.ts';
import { defaultAuditRules } from '../../processors/audit/config.ts';
import { resolveAttributeMap } from '../../lib/mesh/fields.ts';
import type { SummaryPart } from '../../processors/correlate/enrich.ts';
import { enrichLogs, indexTraces, summarizeLogs } from '../../processors/correlate/testdata/decoded.ts';
import { enrichLogsBytes } from '../../processors/correlate/peek-logs.ts';
import { TraceIndex } from '../../processors/correlate/trace-index.ts';
import { makeBatch } from './workload.ts';
import { Payload } from '../../core/payload.ts';

const args = parseArgs(process.argv.slice(2));
const ROUNDS = Number(flag(args, 'rounds') ?? 15);
const REQUESTS = Number(flag(args, 'requests') ?? 8192);

const batch = makeBatch(REQUESTS, 1);
const logBytes = encodeLogsProto(batch.logs);
const records = logRecordCount(batch.logs);
const index = new TraceIndex(3_600_000);
indexTraces(batch.traces, index, ['guid:x-request-id'], Date.now());
const fields = resolveAttributeMap({});
const rules = compileRules(defaultAuditRules());

let sink = 0;

function viaRecords(): void {
  const p = Payload.ofBytes('logs', [logBytes], records);
  const data = p.recordsToChange();
  const counts = { enriched: 0, linked: 0 };
  enrichLogs(data, index, fields, counts);
  const parts = new Map<string, SummaryPart>();
  summarizeLogs(data, parts);
  sink += classifyPayload(p, rules).length;
  sink += encodeLogsNative(data).bytes + parts.size;
}

function viaBytes(): void {
  const data = Payload.ofBytes('logs', [logBytes], records);
  const counts = { enriched: 0, linked: 0 };
  const parts = new Map<string, SummaryPart>();
  const patches = enrichLogsBytes([logBytes], index, fields, counts, parts);
  if (patches) data.patch(patches);
  sink += classifyPayload(data, rules).length;
  const p = data.content;
  if (p.kind !== 'bytes') throw new Error('decoded');
  sink += encodeLogsNativeProto(p.parts, p.count, p.patches).bytes + parts.size;
}

function cpuUs(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

const gc = (globalThis as { gc?: () => void }).gc;

function run(f: () => void, times: number): number {
  gc?.();
  const c0 = cpuUs();
  for (let i = 0; i < times; i++) f();
  gc?.();
  return (cpuUs() - c0) / (times * records);
}

// Warm up both (the JIT), then interleave.
run(viaRecords, 3);
run(viaBytes, 3);
const a: number[] = [];
const b: number[] = [];
for (let i = 0; i < ROUNDS; i++) {
  a.push(run(viaRecords, 2));
  b.push(run(viaBytes, 2));
}
const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)]!;
const fmt = (x: number) => x.toFixed(2);
console.log(`${records} access logs per payload, ${ROUNDS} interleaved rounds; CPU µs per record (process, GC threads included), median (range)`);
console.log(`records (decode, enrich, summarize, classify, encode): ${fmt(median(a))} (${fmt(Math.min(...a))}–${fmt(Math.max(...a))})`);
console.log(`bytes (patches, classify from bytes, encode from bytes): ${fmt(median(b))} (${fmt(Math.min(...b))}–${fmt(Math.max(...b))})`);
console.log(`bytes / records: ${(median(b) / median(a)).toFixed(2)}${sink ? '' : ' '}`);
