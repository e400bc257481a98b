/**
 * OTLP protobuf codec benchmark: our hand-written decoder/encoder against
 * protobufjs (reflection over the vendored .proto files in core/otlp/proto/),
 * on one request of 512 mesh access-log records and one of 512 server/client spans.
 *
 *   node --import tsx scripts/bench/codec.ts [--rounds 15] [--quick]
 *
 * Reports the median ns/record over several timed rounds after a warmup.
 * "protobufjs + model" also converts protobufjs' output to our model (hex ids,
 * bigint timestamps, typed attribute values), which is what a receiver built on
 * protobufjs would have to do; "protobufjs raw" is decode alone.
 */
import os from 'node:os';
import type protobuf from 'protobufjs';
import { KvList } from '../../core/model.ts';
import type { AnyValue, KeyValue } from '../../core/model.ts';
import { decodeLogsProto, decodeTracesProto, encodeLogsProto, encodeTracesProto } from '../../core/otlp/index.ts';
import { meshAccessLogs, meshSpans } from '../../core/otlp/fixtures.ts';
import { loadReference } from '../../core/otlp/proto/reference.ts';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const roundsArg = args.indexOf('--rounds');
const ROUNDS = roundsArg >= 0 ? Number(args[roundsArg + 1]) : quick ? 5 : 15;
const RECORDS = 512;

/**
 * Median ns per call of each function. Variants are calibrated to ~`targetMs`
 * per round after a warmup, then timed in interleaved rounds (a, b, c, a, b, c, …)
 * so that load from other processes on a shared box hits all of them alike.
 */
function measureAll(fns: (() => unknown)[], targetMs = quick ? 60 : 150): number[] {
  let sink: unknown;
  const iters = fns.map((fn) => {
    const warmMs = quick ? 100 : 400;
    const end = performance.now() + warmMs;
    let calls = 0;
    while (performance.now() < end) {
      sink = fn();
      calls++;
    }
    return Math.max(1, Math.round((targetMs * calls) / warmMs));
  });
  const samples: number[][] = fns.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    fns.forEach((fn, k) => {
      const n = iters[k]!;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) sink = fn();
      samples[k]!.push(Number(process.hrtime.bigint() - t0) / n);
    });
  }
  if (sink === undefined) throw new Error('benchmark function returned nothing');
  return samples.map((xs) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!);
}

// ---- protobufjs output -> our model (what a protobufjs-based receiver must also do)
interface PbLong { low: number; high: number }
const toBig = (v: PbLong | number | null | undefined): bigint =>
  v == null ? 0n : typeof v === 'number' ? BigInt(v) : (BigInt(v.high >>> 0) << 32n) | BigInt(v.low >>> 0);
const toInt64 = (v: PbLong | number): bigint => BigInt.asIntN(64, toBig(v));
const hex = (b: Uint8Array | null | undefined): string =>
  b && b.length ? Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex') : '';
type PbAny = Record<string, unknown> & { value?: string };
function pbValue(v: PbAny | null | undefined): AnyValue {
  if (!v) return undefined;
  switch (v.value) {
    case 'stringValue': return v.stringValue as string;
    case 'boolValue': return v.boolValue as boolean;
    case 'intValue': return toInt64(v.intValue as PbLong);
    case 'doubleValue': return v.doubleValue as number;
    case 'bytesValue': return new Uint8Array(v.bytesValue as Uint8Array);
    case 'arrayValue': return ((v.arrayValue as { values: PbAny[] }).values ?? []).map(pbValue);
    case 'kvlistValue': return new KvList(pbAttrs((v.kvlistValue as { values: PbKv[] }).values));
    default: return undefined;
  }
}
interface PbKv { key: string; value: PbAny }
const pbAttrs = (kvs: PbKv[] | undefined): KeyValue[] => (kvs ?? []).map((kv) => ({ key: kv.key, value: pbValue(kv.value) }));
function pbLogsToModel(m: any): number {
  let n = 0;
  for (const rl of m.resourceLogs) {
    pbAttrs(rl.resource?.attributes);
    for (const sl of rl.scopeLogs) {
      for (const r of sl.logRecords) {
        const rec = {
          timeUnixNano: toBig(r.timeUnixNano), observedTimeUnixNano: toBig(r.observedTimeUnixNano),
          severityNumber: r.severityNumber, severityText: r.severityText, body: pbValue(r.body),
          attributes: pbAttrs(r.attributes), droppedAttributesCount: r.droppedAttributesCount, flags: r.flags,
          traceId: hex(r.traceId), spanId: hex(r.spanId), eventName: r.eventName,
        };
        n += rec.attributes.length;
      }
    }
  }
  return n;
}
function pbTracesToModel(m: any): number {
  let n = 0;
  for (const rs of m.resourceSpans) {
    pbAttrs(rs.resource?.attributes);
    for (const ss of rs.scopeSpans) {
      for (const s of ss.spans) {
        const span = {
          traceId: hex(s.traceId), spanId: hex(s.spanId), traceState: s.traceState, parentSpanId: hex(s.parentSpanId),
          flags: s.flags, name: s.name, kind: s.kind, startTimeUnixNano: toBig(s.startTimeUnixNano),
          endTimeUnixNano: toBig(s.endTimeUnixNano), attributes: pbAttrs(s.attributes),
          droppedAttributesCount: s.droppedAttributesCount, events: s.events, droppedEventsCount: s.droppedEventsCount,
          links: s.links, droppedLinksCount: s.droppedLinksCount,
          status: { message: s.status?.message ?? '', code: s.status?.code ?? 0 },
        };
        n += span.attributes.length;
      }
    }
  }
  return n;
}

interface Row { case: string; ours: number; raw: number; model: number; encOurs: number; encPb: number; bytes: number }

function run(name: string, bytes: Uint8Array, type: protobuf.Type, ours: (b: Uint8Array) => unknown,
  toModel: (m: unknown) => number, encode: (m: never) => Uint8Array): Row {
  const model = ours(bytes);
  const pbMsg = type.decode(bytes);
  const [dOurs, dRaw, dModel] = measureAll([() => ours(bytes), () => type.decode(bytes), () => toModel(type.decode(bytes))]);
  const [eOurs, ePb] = measureAll([() => encode(model as never), () => type.encode(pbMsg).finish()]);
  return {
    case: name,
    bytes: bytes.length,
    ours: dOurs! / RECORDS,
    raw: dRaw! / RECORDS,
    model: dModel! / RECORDS,
    encOurs: eOurs! / RECORDS,
    encPb: ePb! / RECORDS,
  };
}

function idMicro(): Record<string, number> {
  const buf = Buffer.from(Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 255));
  const table = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
  const viaTable = (s: number): string => {
    let r = '';
    for (let i = s; i < s + 16; i++) r += table[buf[i]!];
    return r;
  };
  const fast = buf as Buffer & { hexSlice(s: number, e: number): string };
  let k = 0;
  const N = 10_000;
  const loop = (f: (s: number) => string) => () => {
    let len = 0;
    for (let i = 0; i < N; i++) len += f((k++ & 31)).length;
    return len;
  };
  const [a, b, c] = measureAll([
    loop((s) => fast.hexSlice(s, s + 16)),
    loop((s) => buf.toString('hex', s, s + 16)),
    loop((s) => { const r = viaTable(s); r.charCodeAt(31); return r; }),
  ], 30);
  return { 'Buffer#hexSlice': a! / N, "Buffer#toString('hex', s, e)": b! / N, 'lookup table (+ flatten)': c! / N };
}

const ref = loadReference();
const logsBytes = encodeLogsProto(meshAccessLogs(RECORDS));
const tracesBytes = encodeTracesProto(meshSpans(RECORDS));

console.log(`node ${process.version}, ${os.cpus().length} x ${os.cpus()[0]?.model ?? 'cpu'}, ${ROUNDS} rounds, median`);
const rows = [
  run(`logs  (${RECORDS} access logs)`, logsBytes, ref.logsRequest, decodeLogsProto, pbLogsToModel, encodeLogsProto as never),
  run(`spans (${RECORDS} server/client)`, tracesBytes, ref.tracesRequest, decodeTracesProto, pbTracesToModel, encodeTracesProto as never),
];
const f = (n: number) => n.toFixed(0).padStart(7);
console.log('\ndecode, ns/record          ours   pbjs raw  pbjs+model   raw/ours  model/ours   payload');
for (const r of rows) {
  console.log(`${r.case.padEnd(24)} ${f(r.ours)}   ${f(r.raw)}     ${f(r.model)}     ${(r.raw / r.ours).toFixed(2)}x      ${(r.model / r.ours).toFixed(2)}x   ${(r.bytes / 1024).toFixed(0)} KiB`);
}
console.log('\nencode, ns/record          ours   pbjs (from its own message objects)   pbjs/ours');
for (const r of rows) console.log(`${r.case.padEnd(24)} ${f(r.encOurs)}   ${f(r.encPb)}                                 ${(r.encPb / r.encOurs).toFixed(2)}x`);
console.log('\n16-byte id -> hex, ns/id');
for (const [k, v] of Object.entries(idMicro())) console.log(`  ${k.padEnd(30)} ${v.toFixed(1)}`);
