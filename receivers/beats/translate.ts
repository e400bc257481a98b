/**
 * Beats events → OTLP log records (Vector's logstash source is the reference
 * for the semantics; the Collector has no Lumberjack receiver):
 *   message     → body (a string; another JSON value as a map / array body)
 *   @timestamp  → time (RFC 3339, up to nanoseconds); observed time = receive time
 *   everything else → attributes, nested objects flattened to dotted keys
 *                     (`log.file.path`, `host.name`, `@metadata.beat`, `fields.env`),
 *                     which are the OTel names Filebeat's ECS fields mostly share
 * A message that is a JSON object adds its fields (lib/mesh/json-line.ts),
 * so an Envoy access log is classified as over OTLP.
 * Lumberjack v1 data frames carry string pairs: `line` (or `message`) is the
 * body, the rest are attributes.
 */
import { blankLogRecord, type KeyValue, type LogRecord } from '../../core/model.ts';
import { addJsonLineAttributes, jsonToAnyValue } from '../../lib/mesh/json-line.ts';

/** Keys nested deeper than this stay one map-valued attribute. */
const MAX_FLATTEN_DEPTH = 8;

/** `2024-05-14T09:12:03.456789Z` / `…+02:00` → ns since the epoch; 0n when it is not such a time. */
export function rfc3339Nanos(s: string): bigint {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/i.exec(s);
  if (!m) return 0n;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (!Number.isFinite(ms) || ms < 0) return 0n;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0'));
}

function flatten(o: Record<string, unknown>, prefix: string, depth: number, into: KeyValue[]): void {
  for (const k in o) {
    const v = o[k];
    if (v === null || v === undefined) continue;
    const key = prefix ? `${prefix}.${k}` : k;
    if (typeof v === 'object' && !Array.isArray(v) && depth < MAX_FLATTEN_DEPTH) flatten(v as Record<string, unknown>, key, depth + 1, into);
    else {
      const value = jsonToAnyValue(v);
      if (value !== undefined) into.push({ key, value });
    }
  }
}

/** One JSON event (a parsed 'J' frame payload) as a record. */
export function eventRecord(e: Record<string, unknown>, observed: bigint): LogRecord {
  const r = blankLogRecord();
  r.observedTimeUnixNano = observed;
  const ts = e['@timestamp'];
  if (typeof ts === 'string') r.timeUnixNano = rfc3339Nanos(ts);
  const attrs: KeyValue[] = [];
  for (const k in e) {
    if (k === 'message' || k === '@timestamp') continue;
    const v = e[k];
    if (v === null || v === undefined) continue;
    if (typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, k, 1, attrs);
    else attrs.push({ key: k, value: jsonToAnyValue(v) });
  }
  const message = e.message;
  if (typeof message === 'string') {
    r.body = message;
    addJsonLineAttributes(message, attrs);
  } else if (message !== undefined) {
    r.body = jsonToAnyValue(message);
  }
  r.attributes = attrs;
  return r;
}

/** One v1 data frame's pairs as a record. */
export function pairsRecord(pairs: readonly [string, string][], observed: bigint): LogRecord {
  const r = blankLogRecord();
  r.observedTimeUnixNano = observed;
  const attrs: KeyValue[] = [];
  let body: string | undefined;
  for (const [key, value] of pairs) {
    if (body === undefined && (key === 'line' || key === 'message')) body = value;
    else attrs.push({ key, value });
  }
  if (body !== undefined) {
    r.body = body;
    addJsonLineAttributes(body, attrs);
  }
  r.attributes = attrs;
  return r;
}
