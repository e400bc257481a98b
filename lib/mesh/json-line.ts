/**
 * An access log that arrives as one JSON line in a record's body (Envoy's
 * and Istio's `JSON` encoding written to stdout, then shipped by syslog,
 * Fluent Bit/Fluentd as `{log: "<line>"}`, or a file tail) read into
 * attributes, so `audit` classifies it exactly like the same log sent over
 * OTLP by Envoy's OpenTelemetry access logger (fields as attributes).
 *
 * Only a body that is a JSON object is read; anything else is left alone.
 * Values keep their JSON types as OTLP types (integer → int, other numbers
 * → double, objects → kvlist); null fields are skipped; a key the record
 * already has is not overwritten (the shipper's own attributes win).
 * Cheap for other records: one character test before any parsing.
 */
import { KvList, type AnyValue, type KeyValue, type LogRecord } from '../../core/model.ts';

/** Largest body parsed; a larger one is left as text (bounded work per record). */
const MAX_JSON_BODY = 64 * 1024;

function toAnyValue(v: unknown): AnyValue {
  if (typeof v === 'string' || typeof v === 'boolean') return v;
  if (typeof v === 'number') return Number.isInteger(v) && Number.isSafeInteger(v) ? BigInt(v) : v;
  if (Array.isArray(v)) return v.map(toAnyValue);
  if (v && typeof v === 'object') {
    const kvs: KeyValue[] = [];
    for (const [key, x] of Object.entries(v)) if (x !== null) kvs.push({ key, value: toAnyValue(x) });
    return new KvList(kvs);
  }
  return undefined;
}

/** The top-level fields of a JSON-object body, or undefined when the body is not one. */
export function jsonBodyFields(body: AnyValue): KeyValue[] | undefined {
  if (typeof body !== 'string' || body.length > MAX_JSON_BODY) return undefined;
  let i = 0;
  while (i < body.length && (body.charCodeAt(i) === 32 || body.charCodeAt(i) === 9)) i++;
  if (body.charCodeAt(i) !== 123 /* { */) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return undefined;
  }
  if (!v || typeof v !== 'object' || Array.isArray(v)) return undefined;
  const out: KeyValue[] = [];
  for (const [key, x] of Object.entries(v as Record<string, unknown>)) if (x !== null) out.push({ key, value: toAnyValue(x) });
  return out;
}

/** Adds the fields of a JSON-object body to the record's attributes (existing keys win). Returns whether it did. */
export function liftJsonBody(r: LogRecord): boolean {
  const fields = jsonBodyFields(r.body);
  if (!fields) return false;
  const have = r.attributes.length ? new Set(r.attributes.map((a) => a.key)) : undefined;
  for (const f of fields) if (!have?.has(f.key)) r.attributes.push(f);
  return true;
}
