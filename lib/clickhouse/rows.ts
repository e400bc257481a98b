/**
 * Turns the data model into rows of the Collector's `otel_logs` and
 * `otel_traces` tables, mapped exactly as its clickhouseexporter does
 * (exporter_logs.go / exporter_traces.go), encoded straight to JSON text lines
 * for one INSERT per table per batch.
 *
 * Speed matters here (every record of the product passes through): rows are
 * written as strings without intermediate objects, and what is constant for a
 * resource or scope (service name, resource and scope attributes, schema
 * URLs) is encoded once per scope and spliced into every row.
 *
 * Two encodings share the code: JSONCompactEachRow (an array per row, in
 * LOG_COLUMNS / SPAN_COLUMNS order — the INSERT names the columns) and
 * JSONEachRow (an object per row, self-describing). DateTime64(9) values are
 * written as bare integers of nanoseconds, which ClickHouse reads exactly as
 * scaled ticks and which cost one bigint-to-string per timestamp (quoted
 * "seconds.nanos" text is misparsed by ClickHouse's date heuristics for small
 * values, and formatted dates cost far more to produce).
 */
import type { KeyValue, LogsData, TracesData } from '../../core/model.ts';
import { getAttr, logRecordCount, spanCount } from '../../core/model.ts';
import { asString } from '../../core/otlp/anyvalue.ts';

export type RowFormat = 'JSONCompactEachRow' | 'JSONEachRow';

export const LOG_COLUMNS = [
  'Timestamp', 'TimestampTime', 'TraceId', 'SpanId', 'TraceFlags', 'SeverityText', 'SeverityNumber',
  'ServiceName', 'ResourceSchemaUrl', 'ResourceAttributes', 'ScopeSchemaUrl', 'ScopeName', 'ScopeVersion', 'ScopeAttributes',
  'Body', 'LogAttributes', 'EventName',
] as const;

export const SPAN_COLUMNS = [
  'Timestamp', 'TraceId', 'SpanId', 'ParentSpanId', 'TraceState', 'SpanName', 'SpanKind',
  'ServiceName', 'ResourceAttributes', 'ScopeName', 'ScopeVersion',
  'SpanAttributes', 'Duration', 'StatusCode', 'StatusMessage',
  'Events.Timestamp', 'Events.Name', 'Events.Attributes',
  'Links.TraceId', 'Links.SpanId', 'Links.TraceState', 'Links.Attributes',
] as const;

/** ptrace.SpanKind.String(), as the Collector stores it. */
export const SPAN_KIND_NAMES = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'] as const;
/** ptrace.StatusCode.String(). */
export const STATUS_CODE_NAMES = ['Unset', 'Ok', 'Error'] as const;

export function spanKindName(kind: number): string {
  return SPAN_KIND_NAMES[kind] ?? '';
}

export function statusCodeName(code: number): string {
  return STATUS_CODE_NAMES[code] ?? '';
}

/** DateTime64(9) as a JSON integer of nanoseconds (exact in ClickHouse). */
export function ts64(ns: bigint): string {
  return ns.toString();
}

/** DateTime (seconds), Timestamp truncated, as a JSON number. */
export function tsSeconds(ns: bigint): string {
  const s = ns.toString();
  return s.length > 9 ? s.slice(0, -9) : '0';
}

const str = JSON.stringify as (s: string) => string;

// Attribute keys repeat endlessly: their encoded `"key":` is cached (bounded).
const keyCache = new Map<string, string>();
const KEY_CACHE_MAX = 10_000;

function keyJson(key: string): string {
  let k = keyCache.get(key);
  if (k === undefined) {
    k = str(key) + ':';
    if (keyCache.size >= KEY_CACHE_MAX) keyCache.clear();
    keyCache.set(key, k);
  }
  return k;
}

/** Map(LowCardinality(String), String) as a JSON object, values via AsString. */
export function attrsJson(attrs: readonly KeyValue[]): string {
  const n = attrs.length;
  if (n === 0) return '{}';
  let s = '{';
  for (let i = 0; i < n; i++) {
    const kv = attrs[i]!;
    const v = kv.value;
    if (i > 0) s += ',';
    s += keyJson(kv.key);
    // Ints are digits (and '-'), which need no escaping.
    s += typeof v === 'string' ? str(v) : typeof v === 'bigint' ? '"' + v.toString() + '"' : str(asString(v));
  }
  return s + '}';
}

/** Writes one row as an array or an object: keys[i] is the text before value i. */
function keyPrefixes(columns: readonly string[], format: RowFormat): string[] {
  return columns.map((c, i) => (format === 'JSONCompactEachRow' ? (i ? ',' : '[') : (i ? ',' : '{') + str(c) + ':'));
}

const LOG_KEYS = { JSONCompactEachRow: keyPrefixes(LOG_COLUMNS, 'JSONCompactEachRow'), JSONEachRow: keyPrefixes(LOG_COLUMNS, 'JSONEachRow') };
const SPAN_KEYS = { JSONCompactEachRow: keyPrefixes(SPAN_COLUMNS, 'JSONCompactEachRow'), JSONEachRow: keyPrefixes(SPAN_COLUMNS, 'JSONEachRow') };
const END = { JSONCompactEachRow: ']', JSONEachRow: '}' };

function serviceName(resourceAttrs: readonly KeyValue[]): string {
  const v = getAttr(resourceAttrs, 'service.name');
  return typeof v === 'string' ? v : asString(v);
}

export interface EncodedRows {
  /** Rows separated by '\n' (UTF-8); empty when there are none. */
  body: Buffer;
  rows: number;
  /** The body as text (tests, debugging). */
  readonly text: string;
}

/**
 * Rows go into one growing Buffer as soon as each is built: a row string is
 * flattened and dropped at once, so the garbage collector only ever sees
 * short-lived young objects (keeping 8k row strings alive until a final
 * join cost more than the encoding itself).
 */
// JSON.stringify writes a lone surrogate (possible in strings decoded from
// OTLP/JSON) as a \udXXX escape, which ClickHouse rejects with
// CANNOT_PARSE_ESCAPE_SEQUENCE, failing the whole batch. Such escapes only
// ever come from lone surrogates (pairs are written raw), so a row that has
// one gets them replaced by U+FFFD, as Go's JSON decoding would: one scan
// per row, a rewrite only in that rare case.
const LONE_SURROGATE_ESCAPE = /(?<!\\)((?:\\\\)*)\\ud[89a-f][0-9a-f]{2}/g;

class RowBuffer {
  private buf: Buffer;
  private pos = 0;
  rows = 0;

  constructor(sizeHint: number) {
    this.buf = Buffer.allocUnsafe(Math.max(4096, sizeHint));
  }

  push(row: string): void {
    if (row.includes('\\ud')) row = row.replace(LONE_SURROGATE_ESCAPE, '$1\\ufffd');
    // A UTF-8 encoding takes at most 3 bytes per UTF-16 unit; +1 for '\n'.
    const need = this.pos + row.length * 3 + 1;
    if (need > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(need, this.buf.length * 2));
      this.buf.copy(next, 0, 0, this.pos);
      this.buf = next;
    }
    if (this.rows++ > 0) this.buf[this.pos++] = 10;
    this.pos += this.buf.write(row, this.pos);
  }

  done(): EncodedRows {
    const body = this.buf.subarray(0, this.pos);
    return {
      body,
      rows: this.rows,
      get text() {
        return body.toString('utf8');
      },
    };
  }
}

export function encodeLogs(data: LogsData, format: RowFormat = 'JSONCompactEachRow'): EncodedRows {
  const k = LOG_KEYS[format];
  const end = END[format];
  const out = new RowBuffer(logRecordCount(data) * 768);
  for (const rl of data.resourceLogs) {
    const res = k[7] + str(serviceName(rl.resource.attributes)) + k[8] + str(rl.schemaUrl) + k[9] + attrsJson(rl.resource.attributes);
    for (const sl of rl.scopeLogs) {
      const sc = sl.scope;
      const fixed = res + k[10] + str(sl.schemaUrl) + k[11] + str(sc.name) + k[12] + str(sc.version) + k[13] + attrsJson(sc.attributes);
      for (const r of sl.logRecords) {
        const t = r.timeUnixNano !== 0n ? r.timeUnixNano : r.observedTimeUnixNano;
        const body = r.body;
        out.push(
          k[0] + ts64(t) + k[1] + tsSeconds(t) + k[2] + str(r.traceId) + k[3] + str(r.spanId) +
            k[4] + (r.flags & 0xff) + k[5] + str(r.severityText) + k[6] + (r.severityNumber & 0xff) + fixed +
            k[14] + str(typeof body === 'string' ? body : asString(body)) + k[15] + attrsJson(r.attributes) +
            k[16] + str(r.eventName) + end,
        );
      }
    }
  }
  return out.done();
}

export function encodeTraces(data: TracesData, format: RowFormat = 'JSONCompactEachRow'): EncodedRows {
  const k = SPAN_KEYS[format];
  const end = END[format];
  const out = new RowBuffer(spanCount(data) * 768);
  for (const rs of data.resourceSpans) {
    const res = k[7] + str(serviceName(rs.resource.attributes)) + k[8] + attrsJson(rs.resource.attributes);
    for (const ss of rs.scopeSpans) {
      const fixed = res + k[9] + str(ss.scope.name) + k[10] + str(ss.scope.version);
      for (const sp of ss.spans) {
        const dur = sp.endTimeUnixNano - sp.startTimeUnixNano;
        let evTs = '[', evName = '[', evAttrs = '[';
        for (let i = 0; i < sp.events.length; i++) {
          const e = sp.events[i]!;
          const c = i ? ',' : '';
          evTs += c + ts64(e.timeUnixNano);
          evName += c + str(e.name);
          evAttrs += c + attrsJson(e.attributes);
        }
        let lTrace = '[', lSpan = '[', lState = '[', lAttrs = '[';
        for (let i = 0; i < sp.links.length; i++) {
          const l = sp.links[i]!;
          const c = i ? ',' : '';
          lTrace += c + str(l.traceId);
          lSpan += c + str(l.spanId);
          lState += c + str(l.traceState);
          lAttrs += c + attrsJson(l.attributes);
        }
        out.push(
          k[0] + ts64(sp.startTimeUnixNano) + k[1] + str(sp.traceId) + k[2] + str(sp.spanId) + k[3] + str(sp.parentSpanId) +
            k[4] + str(sp.traceState) + k[5] + str(sp.name) + k[6] + str(spanKindName(sp.kind)) + fixed +
            // A span ending before it starts would wrap in UInt64: store 0.
            k[11] + attrsJson(sp.attributes) + k[12] + (dur > 0n ? dur.toString() : '0') +
            k[13] + str(statusCodeName(sp.status.code)) + k[14] + str(sp.status.message) +
            k[15] + evTs + ']' + k[16] + evName + ']' + k[17] + evAttrs + ']' +
            k[18] + lTrace + ']' + k[19] + lSpan + ']' + k[20] + lState + ']' + k[21] + lAttrs + ']' + end,
        );
      }
    }
  }
  return out.done();
}
