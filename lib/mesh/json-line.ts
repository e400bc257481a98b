/**
 * A log line that is a JSON object (Envoy's and Istio's JSON access log
 * written to stdout and shipped by syslog, Fluent Bit/Fluentd as
 * `{log: "<line>"}`, loki, datadog, beats, a file tail, the kafka receiver's
 * text/json encodings; a JSON-logging app) read into attributes, so `audit`
 * classifies it exactly like the same entry sent over OTLP by Envoy's
 * OpenTelemetry access logger (fields as attributes). The line itself stays
 * the record's body.
 *
 * Values keep their JSON types as OTLP types (integer → int, other numbers
 * → double, objects → kvlist); null fields are skipped; a key the record
 * already has is not overwritten (the shipper's labels, tags and attributes
 * win). Cheap on other lines: only a line whose first non-blank byte is `{`
 * is parsed, and none longer than MAX_JSON_LINE (bounded work per record).
 */
import { KvList, type AnyValue, type KeyValue, type LogRecord } from '../../core/model.ts';

/** Nesting kept from a JSON value; deeper levels become their JSON text. */
const MAX_DEPTH = 16;
/** Longest line parsed; a longer one stays text only. */
export const MAX_JSON_LINE = 64 * 1024;

/** A JSON value as an attribute value: integers as int (bigint), other numbers double, objects KvList. */
export function jsonToAnyValue(v: unknown, depth = 0): AnyValue {
  if (v === null || v === undefined) return undefined;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isSafeInteger(v) ? BigInt(v) : v;
    case 'object': {
      if (depth >= MAX_DEPTH) return JSON.stringify(v);
      if (Array.isArray(v)) return v.map((x) => jsonToAnyValue(x, depth + 1));
      const kvs: KeyValue[] = [];
      for (const [key, x] of Object.entries(v as Record<string, unknown>)) if (x !== null) kvs.push({ key, value: jsonToAnyValue(x, depth + 1) });
      return new KvList(kvs);
    }
    default:
      return undefined;
  }
}

/** The parsed object when `line` is a JSON object within the bounds, else undefined. */
function parseObjectLine(line: string): Record<string, unknown> | undefined {
  if (line.length > MAX_JSON_LINE) return undefined;
  let i = 0;
  for (; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
  }
  if (line.charCodeAt(i) !== 123 /* { */) return undefined;
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return undefined;
  }
  return o !== null && typeof o === 'object' && !Array.isArray(o) ? (o as Record<string, unknown>) : undefined;
}

/**
 * Appends the top-level fields of `line` (when it is a JSON object) to
 * `into`, skipping keys already there and null values. Returns whether the
 * line was a JSON object.
 */
export function addJsonLineAttributes(line: string, into: KeyValue[]): boolean {
  const o = parseObjectLine(line);
  if (!o) return false;
  addObjectAttributes(o, into);
  return true;
}

/** The fields of a parsed JSON object as attributes (existing keys kept, null skipped; `skip`: a key left out). */
export function addObjectAttributes(o: Record<string, unknown>, into: KeyValue[], skip?: string): void {
  const existing = into.length;
  for (const key in o) {
    if (key === skip) continue;
    const value = jsonToAnyValue(o[key]);
    if (value === undefined) continue;
    let dup = false;
    for (let i = 0; i < existing; i++) {
      if (into[i]!.key === key) {
        dup = true;
        break;
      }
    }
    if (!dup) into.push({ key, value });
  }
}

/** The top-level fields of a JSON-object body, or undefined when the body is not one. */
export function jsonBodyFields(body: AnyValue): KeyValue[] | undefined {
  if (typeof body !== 'string') return undefined;
  const o = parseObjectLine(body);
  if (!o) return undefined;
  const out: KeyValue[] = [];
  addObjectAttributes(o, out);
  return out;
}

/** Adds the fields of a JSON-object body to the record's attributes (existing keys win). Returns whether it did. */
export function liftJsonBody(r: LogRecord): boolean {
  return typeof r.body === 'string' && addJsonLineAttributes(r.body, r.attributes);
}
