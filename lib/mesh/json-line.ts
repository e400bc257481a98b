/**
 * A log line that is a JSON object (Envoy's and Istio's JSON access log, a
 * JSON-logging app) read into attributes, so `audit` classifies it exactly as
 * the same entry sent over OTLP with those attributes. Receivers of plain
 * lines (loki, datadog, beats, the kafka receiver's text/json encodings)
 * call it; the line itself stays the record's body.
 *
 * Cheap on other lines: only a line whose first non-blank byte is `{` is
 * parsed; a line that does not parse as an object is left alone.
 */
import { KvList, type AnyValue, type KeyValue } from '../../core/model.ts';

/** Nesting kept from a JSON value; deeper levels become their JSON text. */
const MAX_DEPTH = 16;

/** A JSON value as an attribute value: integers as int (bigint), other numbers double, objects KvList. */
export function jsonToAnyValue(v: unknown, depth = 0): AnyValue {
  if (v === null || v === undefined) return undefined;
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isSafeInteger(v) ? BigInt(v) : v;
    case 'object':
      if (depth >= MAX_DEPTH) return JSON.stringify(v);
      if (Array.isArray(v)) return v.map((x) => jsonToAnyValue(x, depth + 1));
      return new KvList(Object.entries(v as Record<string, unknown>).map(([key, x]) => ({ key, value: jsonToAnyValue(x, depth + 1) })));
    default:
      return undefined;
  }
}

function looksLikeObject(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 123 /* { */) return true;
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return false;
  }
  return false;
}

/**
 * Appends the top-level fields of `line` (when it is a JSON object) to
 * `into`, skipping keys already there (labels and tags the shipper set win)
 * and null values. Returns whether the line was a JSON object.
 */
export function addJsonLineAttributes(line: string, into: KeyValue[]): boolean {
  if (!looksLikeObject(line)) return false;
  let o: unknown;
  try {
    o = JSON.parse(line);
  } catch {
    return false;
  }
  if (o === null || typeof o !== 'object' || Array.isArray(o)) return false;
  addObjectAttributes(o as Record<string, unknown>, into);
  return true;
}

/** The fields of a parsed JSON object as attributes (existing keys kept, null skipped). */
export function addObjectAttributes(o: Record<string, unknown>, into: KeyValue[], skip?: string): void {
  const existing = into.length;
  for (const key in o) {
    if (key === skip) continue;
    const value = jsonToAnyValue(o[key]);
    if (value === undefined) continue;
    let dup = false;
    for (let i = 0; i < existing; i++) if (into[i]!.key === key) { dup = true; break; }
    if (!dup) into.push({ key, value });
  }
}
