/**
 * Rows of `otel_logs` / `otel_traces` as one block of ClickHouse's Native
 * format: columnar, length-prefixed, no text to parse. The embedded engine
 * inserts a Native block for ~5 µs of CPU per access-log row where it spends
 * ~15 µs parsing the same rows as JSONCompactEachRow (BENCHMARKS.md, "Native
 * inserts"), and building it costs the JS thread less than the JSON text did.
 *
 * Layout (ClickHouse src/Formats/NativeWriter.cpp, without a client revision,
 * as `clickhouse-local … FORMAT Native` writes it): varint column count,
 * varint row count, then per column its name, its type name and its data:
 * - String: per row a varint byte length and the UTF-8 bytes;
 * - UInt8 / UInt32 (DateTime) / Int64 (DateTime64(9)) / UInt64: fixed-width
 *   little-endian values;
 * - Array(T): one UInt64 per row, the running total of elements, then every
 *   element as a column of T;
 * - Map(K, V): serialized as Array(Tuple(K, V)): the running totals, then all
 *   keys as a column, then all values.
 * Columns are declared with plain types (String, not LowCardinality(String));
 * the INSERT … SELECT casts them to the table's types.
 *
 * Values are mapped exactly as rows.ts maps them for the JSON formats (the
 * Collector's mapping); rows.test.ts checks both give the same stored rows.
 */
import type { KeyValue, LogsData, TracesData } from '../../core/model.ts';
import { getAttr, logRecordCount, spanCount } from '../../core/model.ts';
import { LITTLE_ENDIAN, writeLenString, type FastBuffer } from '../../core/otlp/wire-common.ts';
import { asString } from './anyvalue.ts';
import { LOG_COLUMNS, SPAN_COLUMNS, spanKindName, statusCodeName } from './rows.ts';

/** Typed arrays are written as they lie in memory: little-endian hosts only. */
export const NATIVE_SUPPORTED = LITTLE_ENDIAN;

export interface NativeBlock {
  /** The block's bytes, in pieces (written out with one writev). */
  chunks: Uint8Array[];
  bytes: number;
  rows: number;
  /** `name type, …`: the structure argument for `file(path, Native, structure)`. */
  structure: string;
}

/** A growable byte sink for one column's data. */
export class Sink {
  buf: FastBuffer;
  pos = 0;

  constructor(hint: number) {
    this.buf = Buffer.allocUnsafe(Math.max(256, hint)) as FastBuffer;
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.pos + n, this.buf.length * 2)) as FastBuffer;
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }

  varint(v: number): void {
    this.ensure(5);
    const buf = this.buf;
    while (v >= 0x80) {
      buf[this.pos++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    buf[this.pos++] = v;
  }

  /** A String value: varint byte length + UTF-8. */
  str(s: string): void {
    writeLenString(this, s);
  }

  /** Bytes encoded earlier (a constant value repeated on every row). */
  raw(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  get data(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

/** Array/Map offsets: one UInt64 per row, the running element count. */
export class Offsets {
  private words: Uint32Array;
  private n = 0;
  total = 0;

  constructor(rows: number) {
    this.words = new Uint32Array(Math.max(16, rows * 2));
  }

  /** Ends a row that has `count` more elements. */
  push(count: number): void {
    if (2 * this.n + 2 > this.words.length) {
      const next = new Uint32Array(this.words.length * 2);
      next.set(this.words);
      this.words = next;
    }
    this.total += count;
    // Below 2^32 elements per block: the high word stays 0.
    this.words[2 * this.n] = this.total;
    this.words[2 * this.n + 1] = 0;
    this.n++;
  }

  get data(): Uint8Array {
    return new Uint8Array(this.words.buffer, 0, this.n * 8);
  }
}

/** Map(String, String) values of attributes, via the Collector's AsString. */
export class MapColumn {
  readonly offsets: Offsets;
  readonly keys: Sink;
  readonly values: Sink;

  constructor(rows: number, perRow: number) {
    this.offsets = new Offsets(rows);
    this.keys = new Sink(rows * perRow * 16);
    this.values = new Sink(rows * perRow * 16);
  }

  add(attrs: readonly KeyValue[]): void {
    const n = attrs.length;
    for (let i = 0; i < n; i++) {
      const kv = attrs[i]!;
      const v = kv.value;
      this.keys.str(kv.key);
      this.values.str(typeof v === 'string' ? v : typeof v === 'bigint' ? v.toString() : asString(v));
    }
    this.offsets.push(n);
  }

  /** A map of strings (no AsString needed). */
  addRecord(m: Readonly<Record<string, string>>): void {
    let n = 0;
    for (const k in m) {
      this.keys.str(k);
      this.values.str(m[k]!);
      n++;
    }
    this.offsets.push(n);
  }

  /** A map encoded once (a resource's or scope's attributes), added again. */
  addEncoded(m: EncodedMap): void {
    this.keys.raw(m.keys);
    this.values.raw(m.values);
    this.offsets.push(m.count);
  }

  get chunks(): Uint8Array[] {
    return [this.offsets.data, this.keys.data, this.values.data];
  }
}

interface EncodedMap {
  keys: Uint8Array;
  values: Uint8Array;
  count: number;
}

function encodeMap(attrs: readonly KeyValue[]): EncodedMap {
  const m = new MapColumn(1, attrs.length);
  m.add(attrs);
  return { keys: Uint8Array.from(m.keys.data), values: Uint8Array.from(m.values.data), count: attrs.length };
}

function encodeStr(s: string): Uint8Array {
  const sink = new Sink(s.length * 3 + 5);
  sink.str(s);
  return Uint8Array.from(sink.data);
}

export function bytesOf(a: BigInt64Array | BigUint64Array | Uint32Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

function serviceName(resourceAttrs: readonly KeyValue[]): string {
  const v = getAttr(resourceAttrs, 'service.name');
  return typeof v === 'string' ? v : asString(v);
}

/** DateTime (seconds) from nanoseconds, truncated (0 below the epoch, as UInt32). */
function seconds(ns: bigint): number {
  return ns > 0n ? Number(ns / 1_000_000_000n) : 0;
}

/** Assembles the block from columns given as [name, type, data chunks]. */
export function nativeBlock(rows: number, columns: ReadonlyArray<readonly [string, string, readonly Uint8Array[]]>): NativeBlock {
  const head = new Sink(64 * columns.length);
  head.varint(columns.length);
  head.varint(rows);
  const chunks: Uint8Array[] = [];
  let start = 0;
  for (const [name, type, data] of columns) {
    head.str(name);
    head.str(type);
    chunks.push(head.buf.subarray(start, head.pos));
    start = head.pos;
    for (const d of data) if (d.length) chunks.push(d);
  }
  let bytes = 0;
  for (const c of chunks) bytes += c.length;
  return { chunks, bytes, rows, structure: columns.map(([n, t]) => `\`${n}\` ${t}`).join(', ') };
}

const MAP = 'Map(String, String)';

/** `otel_logs` rows, columns in LOG_COLUMNS order. */
export function encodeLogsNative(data: LogsData): NativeBlock {
  const rows = logRecordCount(data);
  const ts = new BigInt64Array(rows);
  const tsTime = new Uint32Array(rows);
  const flags = new Uint8Array(rows);
  const sevNum = new Uint8Array(rows);
  const traceId = new Sink(rows * 33);
  const spanId = new Sink(rows * 17);
  const sevText = new Sink(rows * 6);
  const service = new Sink(rows * 16);
  const resSchema = new Sink(rows);
  const resAttrs = new MapColumn(rows, 6);
  const scopeSchema = new Sink(rows);
  const scopeName = new Sink(rows * 8);
  const scopeVersion = new Sink(rows * 4);
  const scopeAttrs = new MapColumn(rows, 0);
  const body = new Sink(rows * 256);
  const logAttrs = new MapColumn(rows, 12);
  const eventName = new Sink(rows);
  let i = 0;
  for (const rl of data.resourceLogs) {
    const attrs = rl.resource.attributes;
    const svc = encodeStr(serviceName(attrs));
    const rSchema = encodeStr(rl.schemaUrl);
    const rAttrs = encodeMap(attrs);
    for (const sl of rl.scopeLogs) {
      const sc = sl.scope;
      const sSchema = encodeStr(sl.schemaUrl);
      const sName = encodeStr(sc.name);
      const sVersion = encodeStr(sc.version);
      const sAttrs = encodeMap(sc.attributes);
      for (const r of sl.logRecords) {
        const t = r.timeUnixNano !== 0n ? r.timeUnixNano : r.observedTimeUnixNano;
        ts[i] = t;
        tsTime[i] = seconds(t);
        flags[i] = r.flags & 0xff;
        sevNum[i] = r.severityNumber & 0xff;
        i++;
        traceId.str(r.traceId);
        spanId.str(r.spanId);
        sevText.str(r.severityText);
        service.raw(svc);
        resSchema.raw(rSchema);
        resAttrs.addEncoded(rAttrs);
        scopeSchema.raw(sSchema);
        scopeName.raw(sName);
        scopeVersion.raw(sVersion);
        scopeAttrs.addEncoded(sAttrs);
        const b = r.body;
        body.str(typeof b === 'string' ? b : asString(b));
        logAttrs.add(r.attributes);
        eventName.str(r.eventName);
      }
    }
  }
  const cols: Record<(typeof LOG_COLUMNS)[number], readonly [string, Uint8Array[]]> = {
    Timestamp: ['DateTime64(9)', [bytesOf(ts)]],
    TimestampTime: ['DateTime', [bytesOf(tsTime)]],
    TraceId: ['String', [traceId.data]],
    SpanId: ['String', [spanId.data]],
    TraceFlags: ['UInt8', [flags]],
    SeverityText: ['String', [sevText.data]],
    SeverityNumber: ['UInt8', [sevNum]],
    ServiceName: ['String', [service.data]],
    ResourceSchemaUrl: ['String', [resSchema.data]],
    ResourceAttributes: [MAP, resAttrs.chunks],
    ScopeSchemaUrl: ['String', [scopeSchema.data]],
    ScopeName: ['String', [scopeName.data]],
    ScopeVersion: ['String', [scopeVersion.data]],
    ScopeAttributes: [MAP, scopeAttrs.chunks],
    Body: ['String', [body.data]],
    LogAttributes: [MAP, logAttrs.chunks],
    EventName: ['String', [eventName.data]],
  };
  return nativeBlock(rows, LOG_COLUMNS.map((c) => [c, cols[c][0], cols[c][1]] as const));
}

/** `otel_traces` rows, columns in SPAN_COLUMNS order. */
export function encodeTracesNative(data: TracesData): NativeBlock {
  const rows = spanCount(data);
  const ts = new BigInt64Array(rows);
  const duration = new BigUint64Array(rows);
  const traceId = new Sink(rows * 33);
  const spanId = new Sink(rows * 17);
  const parentId = new Sink(rows * 17);
  const traceState = new Sink(rows);
  const name = new Sink(rows * 16);
  const kind = new Sink(rows * 7);
  const service = new Sink(rows * 16);
  const resAttrs = new MapColumn(rows, 6);
  const scopeName = new Sink(rows * 8);
  const scopeVersion = new Sink(rows * 4);
  const spanAttrs = new MapColumn(rows, 10);
  const statusCode = new Sink(rows * 6);
  const statusMsg = new Sink(rows);
  const evOffsets = new Offsets(rows);
  const evTs = new Sink(64);
  const evName = new Sink(64);
  const evAttrs = new MapColumn(16, 2);
  const lnOffsets = new Offsets(rows);
  const lnTrace = new Sink(64);
  const lnSpan = new Sink(64);
  const lnState = new Sink(64);
  const lnAttrs = new MapColumn(16, 2);
  const scratch = new BigInt64Array(1);
  const scratchBytes = bytesOf(scratch);
  let i = 0;
  for (const rs of data.resourceSpans) {
    const attrs = rs.resource.attributes;
    const svc = encodeStr(serviceName(attrs));
    const rAttrs = encodeMap(attrs);
    for (const ss of rs.scopeSpans) {
      const sName = encodeStr(ss.scope.name);
      const sVersion = encodeStr(ss.scope.version);
      for (const sp of ss.spans) {
        ts[i] = sp.startTimeUnixNano;
        const dur = sp.endTimeUnixNano - sp.startTimeUnixNano;
        // A span ending before it starts would wrap in UInt64: store 0.
        duration[i] = dur > 0n ? dur : 0n;
        i++;
        traceId.str(sp.traceId);
        spanId.str(sp.spanId);
        parentId.str(sp.parentSpanId);
        traceState.str(sp.traceState);
        name.str(sp.name);
        kind.str(spanKindName(sp.kind));
        service.raw(svc);
        resAttrs.addEncoded(rAttrs);
        scopeName.raw(sName);
        scopeVersion.raw(sVersion);
        spanAttrs.add(sp.attributes);
        statusCode.str(statusCodeName(sp.status.code));
        statusMsg.str(sp.status.message);
        const events = sp.events;
        for (let e = 0; e < events.length; e++) {
          const ev = events[e]!;
          scratch[0] = ev.timeUnixNano;
          evTs.raw(scratchBytes);
          evName.str(ev.name);
          evAttrs.add(ev.attributes);
        }
        evOffsets.push(events.length);
        const links = sp.links;
        for (let l = 0; l < links.length; l++) {
          const ln = links[l]!;
          lnTrace.str(ln.traceId);
          lnSpan.str(ln.spanId);
          lnState.str(ln.traceState);
          lnAttrs.add(ln.attributes);
        }
        lnOffsets.push(links.length);
      }
    }
  }
  const evOff = evOffsets.data;
  const lnOff = lnOffsets.data;
  const cols: Record<(typeof SPAN_COLUMNS)[number], readonly [string, Uint8Array[]]> = {
    Timestamp: ['DateTime64(9)', [bytesOf(ts)]],
    TraceId: ['String', [traceId.data]],
    SpanId: ['String', [spanId.data]],
    ParentSpanId: ['String', [parentId.data]],
    TraceState: ['String', [traceState.data]],
    SpanName: ['String', [name.data]],
    SpanKind: ['String', [kind.data]],
    ServiceName: ['String', [service.data]],
    ResourceAttributes: [MAP, resAttrs.chunks],
    ScopeName: ['String', [scopeName.data]],
    ScopeVersion: ['String', [scopeVersion.data]],
    SpanAttributes: [MAP, spanAttrs.chunks],
    Duration: ['UInt64', [bytesOf(duration)]],
    StatusCode: ['String', [statusCode.data]],
    StatusMessage: ['String', [statusMsg.data]],
    'Events.Timestamp': ['Array(DateTime64(9))', [evOff, evTs.data]],
    'Events.Name': ['Array(String)', [evOff, evName.data]],
    'Events.Attributes': [`Array(${MAP})`, [evOff, ...evAttrs.chunks]],
    'Links.TraceId': ['Array(String)', [lnOff, lnTrace.data]],
    'Links.SpanId': ['Array(String)', [lnOff, lnSpan.data]],
    'Links.TraceState': ['Array(String)', [lnOff, lnState.data]],
    'Links.Attributes': [`Array(${MAP})`, [lnOff, ...lnAttrs.chunks]],
  };
  return nativeBlock(rows, SPAN_COLUMNS.map((c) => [c, cols[c][0], cols[c][1]] as const));
}
