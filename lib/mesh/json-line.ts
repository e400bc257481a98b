/**
 * A JSON access-log line (Envoy's JSON access log, Istio's
 * `accessLogEncoding: JSON`) as log-record attributes, so a record tailed
 * from a file, or received as a text line by any receiver, is read by the
 * audit classifier exactly as Envoy's OpenTelemetry access logger's record
 * (whose labels are attributes with these same names). Shared by every
 * receiver that gets such lines (filelog, syslog, forward).
 *
 * Values: strings stay strings, integers become OTLP ints, other numbers
 * doubles, booleans bools, objects kvlists, arrays arrays, null is dropped.
 */
import { KvList, type AnyValue, type KeyValue } from '../../core/model.ts';

/** The object a line holds, or undefined when it is not a JSON object. */
export function parseJsonObject(line: string): Record<string, unknown> | undefined {
  const t = line.charCodeAt(0) === 123 /* { */ ? line : line.trimStart();
  if (t.charCodeAt(0) !== 123) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

export function toAnyValue(v: unknown): AnyValue {
  switch (typeof v) {
    case 'string':
    case 'boolean':
      return v;
    case 'number':
      return Number.isSafeInteger(v) ? BigInt(v) : v;
    case 'object':
      if (v === null) return undefined;
      if (Array.isArray(v)) return v.map(toAnyValue);
      return new KvList(objectToAttributes(v as Record<string, unknown>));
    default:
      return undefined;
  }
}

/** The object's keys as attributes, in its order (null values dropped). */
export function objectToAttributes(o: Record<string, unknown>, into: KeyValue[] = []): KeyValue[] {
  for (const key in o) {
    const value = toAnyValue(o[key]);
    if (value !== undefined) into.push({ key, value });
  }
  return into;
}

/** Envoy's START_TIME (RFC 3339, ms or µs) as Unix nanoseconds; 0n when unreadable. */
export function startTimeNanos(v: unknown): bigint {
  if (typeof v !== 'string' || v === '' || v === '-') return 0n;
  const ms = Date.parse(v);
  if (Number.isNaN(ms)) return 0n;
  // Date.parse keeps milliseconds; Envoy may write microseconds.
  const frac = /\.(\d{4,9})/.exec(v)?.[1];
  const extra = frac ? BigInt(frac.slice(3).padEnd(6, '0')) : 0n;
  return BigInt(ms) * 1_000_000n + extra;
}
