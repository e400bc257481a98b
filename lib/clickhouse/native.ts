/**
 * Rows of `otel_logs` / `otel_traces` as one block of ClickHouse's Native
 * format: columnar, length-prefixed, no text to parse. The embedded engine
 * inserts a Native block for a fraction of the CPU it spends parsing the same
 * rows as JSONCompactEachRow (docs/benchmarks-log.md, "Native blocks"), and
 * building it costs the JS thread less than the JSON text did.
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
import type { KeyValue, LogRecord, LogsData, Span, SpanEvent, SpanLink, TracesData } from '../../core/model.ts';
import { getAttr, logRecordCount, spanCount } from '../../core/model.ts';
import { LITTLE_ENDIAN, writeLenString, type FastBuffer } from '../../core/otlp/wire-common.ts';
import { asString } from '../../core/otlp/anyvalue.ts';
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

/** Strings up to this many bytes are copied four bytes at a time through DataViews; longer ones with one `set`. */
const SHORT_COPY = 128;

// The DataView of the last source strBytes copied from: a walk copies many
// strings in a row from one request's bytes, and a view per call would be an
// object per string. It keeps that one source alive until the next copy.
let lastSource: Uint8Array | undefined;
let lastSourceView: DataView | undefined;

function sourceView(src: Uint8Array): DataView {
  if (src !== lastSource || lastSourceView === undefined) {
    lastSource = src;
    lastSourceView = new DataView(src.buffer, src.byteOffset, src.byteLength);
  }
  return lastSourceView;
}

/** A growable byte sink for one column's data. */
export class Sink {
  buf: FastBuffer;
  /** `buf` as a DataView (strBytes' word copies). */
  private view: DataView;
  pos = 0;

  constructor(hint: number) {
    this.buf = Buffer.allocUnsafe(Math.max(256, hint)) as FastBuffer;
    this.view = new DataView(this.buf.buffer, this.buf.byteOffset, this.buf.byteLength);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.pos + n, this.buf.length * 2)) as FastBuffer;
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
    this.view = new DataView(next.buffer, next.byteOffset, next.byteLength);
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

  /** A String value from UTF-8 bytes of `src` (a protobuf string's body). */
  strBytes(src: Uint8Array, start: number, end: number): void {
    const n = end - start;
    this.varint(n);
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    if (n <= SHORT_COPY) {
      // Four bytes at a time: a byte loop costs ~3x as much per byte; a subarray is an object per string.
      const from = sourceView(src);
      const to = this.view;
      let k = start;
      for (; k + 4 <= end; k += 4, p += 4) to.setUint32(p, from.getUint32(k, true), true);
      for (; k < end; k++) buf[p++] = src[k]!;
    } else {
      buf.set(src.subarray(start, end), p);
      p += n;
    }
    this.pos = p;
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

  /** A map of strings (no AsString needed), its keys in the order given (every key of `m`, each once). */
  addRecord(m: Readonly<Record<string, string>>, keys: readonly string[]): void {
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      this.keys.str(k);
      this.values.str(m[k]!);
    }
    this.offsets.push(keys.length);
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

export interface EncodedMap {
  keys: Uint8Array;
  values: Uint8Array;
  count: number;
}

export function encodeMap(attrs: readonly KeyValue[]): EncodedMap {
  const m = new MapColumn(1, attrs.length);
  m.add(attrs);
  return { keys: Uint8Array.from(m.keys.data), values: Uint8Array.from(m.values.data), count: attrs.length };
}

export function encodeStr(s: string): Uint8Array {
  const sink = new Sink(s.length * 3 + 5);
  sink.str(s);
  return Uint8Array.from(sink.data);
}

export function bytesOf(a: BigInt64Array | BigUint64Array | Uint32Array | Uint8Array): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

export function serviceName(resourceAttrs: readonly KeyValue[]): string {
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

/**
 * Told about the rows of chosen resources while their columns are written
 * (the otel_logs leaves of the exporter's Merkle log,
 * lib/audit/otel-logs-leaf.ts): it reads each told row's values where they
 * were just written, so the row needs no walk of its own.
 */
export interface LogRowHook {
  /** Whether the rows of a resource with this service.name are told; asked once per resource. */
  covers(service: string): boolean;
  /** Before a told row's columns are written. */
  begin(c: LogColumns): void;
  /** After they are (`c.rows` counts the row). */
  end(c: LogColumns): void;
}

/**
 * The columns of `otel_logs` rows being built, one record at a time, from
 * records (`encodeLogsNative`) or straight from OTLP protobuf
 * (native-proto.ts). Timestamps are written as 32-bit words so the protobuf
 * path needs no bigint.
 */
export class LogColumns {
  readonly ts: Uint32Array;
  readonly ts64: BigInt64Array;
  readonly tsTime: Uint32Array;
  readonly flags: Uint8Array;
  readonly sevNum: Uint8Array;
  readonly traceId: Sink;
  readonly spanId: Sink;
  readonly sevText: Sink;
  readonly service: Sink;
  readonly resSchema: Sink;
  readonly resAttrs: MapColumn;
  readonly scopeSchema: Sink;
  readonly scopeName: Sink;
  readonly scopeVersion: Sink;
  readonly scopeAttrs: MapColumn;
  readonly body: Sink;
  readonly logAttrs: MapColumn;
  readonly eventName: Sink;
  /** Rows ended so far. */
  rows = 0;

  constructor(readonly capacity: number) {
    const rows = capacity;
    this.ts = new Uint32Array(rows * 2);
    this.ts64 = new BigInt64Array(this.ts.buffer);
    this.tsTime = new Uint32Array(rows);
    this.flags = new Uint8Array(rows);
    this.sevNum = new Uint8Array(rows);
    this.traceId = new Sink(rows * 33);
    this.spanId = new Sink(rows * 17);
    this.sevText = new Sink(rows * 6);
    this.service = new Sink(rows * 16);
    this.resSchema = new Sink(rows);
    this.resAttrs = new MapColumn(rows, 6);
    this.scopeSchema = new Sink(rows);
    this.scopeName = new Sink(rows * 8);
    this.scopeVersion = new Sink(rows * 4);
    this.scopeAttrs = new MapColumn(rows, 0);
    this.body = new Sink(rows * 256);
    this.logAttrs = new MapColumn(rows, 12);
    this.eventName = new Sink(rows);
  }

  /**
   * The current row's timestamp from the 32-bit halves of its nanoseconds
   * (unsigned, as on the wire), and TimestampTime, its whole seconds.
   */
  time(lo: number, hi: number): void {
    const i = this.rows;
    this.ts[2 * i] = lo;
    this.ts[2 * i + 1] = hi;
    // Whole seconds without a bigint, unless the double's rounding (at most
    // 2048 ns at 2^64) could carry it across a second's edge.
    const t = hi * 4294967296 + lo;
    const rem = t % 1e9;
    this.tsTime[i] = rem > 1e4 && rem < 1e9 - 1e4 ? Math.floor(t / 1e9) : seconds((BigInt(hi) << 32n) | BigInt(lo));
  }

  /** TraceFlags and SeverityNumber of the current row (their low bytes, as UInt8). */
  flagsAndSeverity(flags: number, severity: number): void {
    this.flags[this.rows] = flags & 0xff;
    this.sevNum[this.rows] = severity & 0xff;
  }

  /** The per-resource and per-scope columns of the current row. */
  context(svc: Uint8Array, rSchema: Uint8Array, rAttrs: EncodedMap, sSchema: Uint8Array, sName: Uint8Array, sVersion: Uint8Array, sAttrs: EncodedMap): void {
    this.service.raw(svc);
    this.resSchema.raw(rSchema);
    this.resAttrs.addEncoded(rAttrs);
    this.scopeSchema.raw(sSchema);
    this.scopeName.raw(sName);
    this.scopeVersion.raw(sVersion);
    this.scopeAttrs.addEncoded(sAttrs);
  }

  /** One record from the record model. */
  addRecord(r: LogRecord, svc: Uint8Array, rSchema: Uint8Array, rAttrs: EncodedMap, sSchema: Uint8Array, sName: Uint8Array, sVersion: Uint8Array, sAttrs: EncodedMap): void {
    const t = r.timeUnixNano !== 0n ? r.timeUnixNano : r.observedTimeUnixNano;
    this.ts64[this.rows] = t;
    this.tsTime[this.rows] = seconds(t);
    this.flagsAndSeverity(r.flags, r.severityNumber);
    this.traceId.str(r.traceId);
    this.spanId.str(r.spanId);
    this.sevText.str(r.severityText);
    this.context(svc, rSchema, rAttrs, sSchema, sName, sVersion, sAttrs);
    const b = r.body;
    this.body.str(typeof b === 'string' ? b : asString(b));
    this.logAttrs.add(r.attributes);
    this.eventName.str(r.eventName);
    this.rows++;
  }

  /** The block: LOG_COLUMNS, then `extra` columns ([name, type, data chunks]). */
  block(extra: ReadonlyArray<readonly [string, string, readonly Uint8Array[]]> = []): NativeBlock {
    const rows = this.rows;
    const cols: Record<(typeof LOG_COLUMNS)[number], readonly [string, Uint8Array[]]> = {
      Timestamp: ['DateTime64(9)', [new Uint8Array(this.ts.buffer, 0, rows * 8)]],
      TimestampTime: ['DateTime', [bytesOf(this.tsTime.subarray(0, rows))]],
      TraceId: ['String', [this.traceId.data]],
      SpanId: ['String', [this.spanId.data]],
      TraceFlags: ['UInt8', [this.flags.subarray(0, rows)]],
      SeverityText: ['String', [this.sevText.data]],
      SeverityNumber: ['UInt8', [this.sevNum.subarray(0, rows)]],
      ServiceName: ['String', [this.service.data]],
      ResourceSchemaUrl: ['String', [this.resSchema.data]],
      ResourceAttributes: [MAP, this.resAttrs.chunks],
      ScopeSchemaUrl: ['String', [this.scopeSchema.data]],
      ScopeName: ['String', [this.scopeName.data]],
      ScopeVersion: ['String', [this.scopeVersion.data]],
      ScopeAttributes: [MAP, this.scopeAttrs.chunks],
      Body: ['String', [this.body.data]],
      LogAttributes: [MAP, this.logAttrs.chunks],
      EventName: ['String', [this.eventName.data]],
    };
    return nativeBlock(rows, [...LOG_COLUMNS.map((c) => [c, cols[c][0], cols[c][1]] as const), ...extra]);
  }
}

/** `otel_logs` rows, columns in LOG_COLUMNS order. */
export function encodeLogsNative(data: LogsData): NativeBlock {
  return logColumnsOf(data).block();
}

/** `otel_logs` columns of records, `hook` told about the rows it covers. */
export function logColumnsOf(data: LogsData, hook?: LogRowHook): LogColumns {
  const c = new LogColumns(logRecordCount(data));
  for (const rl of data.resourceLogs) {
    const attrs = rl.resource.attributes;
    const name = serviceName(attrs);
    const svc = encodeStr(name);
    const told = hook?.covers(name) ? hook : undefined;
    const rSchema = encodeStr(rl.schemaUrl);
    const rAttrs = encodeMap(attrs);
    for (const sl of rl.scopeLogs) {
      const sc = sl.scope;
      const sSchema = encodeStr(sl.schemaUrl);
      const sName = encodeStr(sc.name);
      const sVersion = encodeStr(sc.version);
      const sAttrs = encodeMap(sc.attributes);
      for (const r of sl.logRecords) {
        told?.begin(c);
        c.addRecord(r, svc, rSchema, rAttrs, sSchema, sName, sVersion, sAttrs);
        told?.end(c);
      }
    }
  }
  return c;
}

/** Hex digits of each byte value, as two ASCII codes. */
const HEX_PAIRS = new Uint16Array(256);
for (let b = 0; b < 256; b++) {
  const d = '0123456789abcdef';
  HEX_PAIRS[b] = d.charCodeAt(b >> 4) | (d.charCodeAt(b & 15) << 8);
}

/** An id's bytes as a String value of lowercase hex text ('' when `start === end`). */
export function writeHexId(sink: Sink, buf: Uint8Array, start: number, end: number): void {
  const n = end - start;
  sink.ensure(1 + n * 2);
  const out = sink.buf;
  let p = sink.pos;
  out[p++] = n * 2; // ids are at most 16 bytes: a one-byte varint
  for (let k = start; k < end; k++) {
    const pair = HEX_PAIRS[buf[k]!]!;
    out[p++] = pair & 0xff;
    out[p++] = pair >> 8;
  }
  sink.pos = p;
}

/**
 * The columns of `otel_traces` rows being built, one span at a time, from
 * records (`encodeTracesNative`) or straight from OTLP protobuf
 * (native-proto.ts). Times are written as 32-bit words so the protobuf path
 * needs no bigint.
 */
export class TraceColumns {
  private readonly ts: Uint32Array;
  private readonly duration: Uint32Array;
  /** The same memory as 64-bit values, for the record path's bigints. */
  private readonly ts64: BigInt64Array;
  private readonly duration64: BigUint64Array;
  readonly traceId: Sink;
  readonly spanId: Sink;
  readonly parentId: Sink;
  readonly traceState: Sink;
  readonly name: Sink;
  readonly kind: Sink;
  readonly service: Sink;
  readonly resAttrs: MapColumn;
  readonly scopeName: Sink;
  readonly scopeVersion: Sink;
  readonly spanAttrs: MapColumn;
  readonly statusCode: Sink;
  readonly statusMsg: Sink;
  private readonly evOffsets: Offsets;
  private readonly evTs = new Sink(64);
  private readonly evName = new Sink(64);
  private readonly evAttrs = new MapColumn(16, 2);
  private readonly lnOffsets: Offsets;
  private readonly lnTrace = new Sink(64);
  private readonly lnSpan = new Sink(64);
  private readonly lnState = new Sink(64);
  private readonly lnAttrs = new MapColumn(16, 2);
  private readonly scratch = new BigInt64Array(1);
  private readonly scratchBytes = bytesOf(this.scratch);
  /** Rows ended so far. */
  rows = 0;
  private events = 0;
  private links = 0;

  constructor(readonly capacity: number) {
    const rows = capacity;
    this.ts = new Uint32Array(rows * 2);
    this.duration = new Uint32Array(rows * 2);
    this.ts64 = new BigInt64Array(this.ts.buffer);
    this.duration64 = new BigUint64Array(this.duration.buffer);
    this.traceId = new Sink(rows * 33);
    this.spanId = new Sink(rows * 17);
    this.parentId = new Sink(rows * 17);
    this.traceState = new Sink(rows);
    this.name = new Sink(rows * 16);
    this.kind = new Sink(rows * 7);
    this.service = new Sink(rows * 16);
    this.resAttrs = new MapColumn(rows, 6);
    this.scopeName = new Sink(rows * 8);
    this.scopeVersion = new Sink(rows * 4);
    this.spanAttrs = new MapColumn(rows, 10);
    this.statusCode = new Sink(rows * 6);
    this.statusMsg = new Sink(rows);
    this.evOffsets = new Offsets(rows);
    this.lnOffsets = new Offsets(rows);
  }

  /**
   * Start time and duration of the current row from the 32-bit halves of
   * the span's start and end (unsigned ns). A span ending before it starts
   * would wrap in UInt64: its duration is 0.
   */
  times(startLo: number, startHi: number, endLo: number, endHi: number): void {
    const i = this.rows * 2;
    this.ts[i] = startLo;
    this.ts[i + 1] = startHi;
    if (endHi > startHi || (endHi === startHi && endLo > startLo)) {
      const borrow = endLo < startLo ? 1 : 0;
      this.duration[i] = endLo - startLo + borrow * 0x100000000;
      this.duration[i + 1] = endHi - startHi - borrow;
    } else {
      this.duration[i] = 0;
      this.duration[i + 1] = 0;
    }
  }

  addEvent(ev: SpanEvent): void {
    this.scratch[0] = ev.timeUnixNano;
    this.evTs.raw(this.scratchBytes);
    this.evName.str(ev.name);
    this.evAttrs.add(ev.attributes);
    this.events++;
  }

  addLink(ln: SpanLink): void {
    this.lnTrace.str(ln.traceId);
    this.lnSpan.str(ln.spanId);
    this.lnState.str(ln.traceState);
    this.lnAttrs.add(ln.attributes);
    this.links++;
  }

  /** Ends the current row (every column has had its value). */
  endRow(): void {
    this.evOffsets.push(this.events);
    this.lnOffsets.push(this.links);
    this.events = 0;
    this.links = 0;
    this.rows++;
  }

  /** One span from records. */
  addSpan(sp: Span, svc: Uint8Array, rAttrs: EncodedMap, sName: Uint8Array, sVersion: Uint8Array): void {
    const dur = sp.endTimeUnixNano - sp.startTimeUnixNano;
    this.ts64[this.rows] = sp.startTimeUnixNano;
    this.duration64[this.rows] = dur > 0n ? dur : 0n; // ends before it starts: 0, as `times`
    this.traceId.str(sp.traceId);
    this.spanId.str(sp.spanId);
    this.parentId.str(sp.parentSpanId);
    this.traceState.str(sp.traceState);
    this.name.str(sp.name);
    this.kind.str(spanKindName(sp.kind));
    this.service.raw(svc);
    this.resAttrs.addEncoded(rAttrs);
    this.scopeName.raw(sName);
    this.scopeVersion.raw(sVersion);
    this.spanAttrs.add(sp.attributes);
    this.statusCode.str(statusCodeName(sp.status.code));
    this.statusMsg.str(sp.status.message);
    for (const ev of sp.events) this.addEvent(ev);
    for (const ln of sp.links) this.addLink(ln);
    this.endRow();
  }

  block(): NativeBlock {
    const rows = this.rows;
    const evOff = this.evOffsets.data;
    const lnOff = this.lnOffsets.data;
    const words = (a: Uint32Array) => new Uint8Array(a.buffer, 0, rows * 8);
    const cols: Record<(typeof SPAN_COLUMNS)[number], readonly [string, Uint8Array[]]> = {
      Timestamp: ['DateTime64(9)', [words(this.ts)]],
      TraceId: ['String', [this.traceId.data]],
      SpanId: ['String', [this.spanId.data]],
      ParentSpanId: ['String', [this.parentId.data]],
      TraceState: ['String', [this.traceState.data]],
      SpanName: ['String', [this.name.data]],
      SpanKind: ['String', [this.kind.data]],
      ServiceName: ['String', [this.service.data]],
      ResourceAttributes: [MAP, this.resAttrs.chunks],
      ScopeName: ['String', [this.scopeName.data]],
      ScopeVersion: ['String', [this.scopeVersion.data]],
      SpanAttributes: [MAP, this.spanAttrs.chunks],
      Duration: ['UInt64', [words(this.duration)]],
      StatusCode: ['String', [this.statusCode.data]],
      StatusMessage: ['String', [this.statusMsg.data]],
      'Events.Timestamp': ['Array(DateTime64(9))', [evOff, this.evTs.data]],
      'Events.Name': ['Array(String)', [evOff, this.evName.data]],
      'Events.Attributes': [`Array(${MAP})`, [evOff, ...this.evAttrs.chunks]],
      'Links.TraceId': ['Array(String)', [lnOff, this.lnTrace.data]],
      'Links.SpanId': ['Array(String)', [lnOff, this.lnSpan.data]],
      'Links.TraceState': ['Array(String)', [lnOff, this.lnState.data]],
      'Links.Attributes': [`Array(${MAP})`, [lnOff, ...this.lnAttrs.chunks]],
    };
    return nativeBlock(rows, SPAN_COLUMNS.map((c) => [c, cols[c][0], cols[c][1]] as const));
  }
}

/** `otel_traces` rows, columns in SPAN_COLUMNS order. */
export function encodeTracesNative(data: TracesData): NativeBlock {
  const c = new TraceColumns(spanCount(data));
  for (const rs of data.resourceSpans) {
    const attrs = rs.resource.attributes;
    const svc = encodeStr(serviceName(attrs));
    const rAttrs = encodeMap(attrs);
    for (const ss of rs.scopeSpans) {
      const sName = encodeStr(ss.scope.name);
      const sVersion = encodeStr(ss.scope.version);
      for (const sp of ss.spans) c.addSpan(sp, svc, rAttrs, sName, sVersion);
    }
  }
  return c.block();
}
