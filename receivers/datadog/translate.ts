/**
 * Datadog log intake bodies → OTLP log records. The Agent (`use_http`) and
 * the API clients send a JSON array (or one object) of
 *   {message, status, timestamp, hostname, service, ddsource, ddtags, …}
 * Mapping (the Collector has no Datadog logs receiver; this follows its
 * Datadog exporter's names in reverse):
 *   message   → body (a string stays a string; another JSON value becomes a map/array body)
 *   timestamp → time (ms since the epoch, or an RFC 3339 string); observed time = receive time
 *   status    → severity text as sent, severity number by its name (info 9, warn 13, error 17 …)
 *   hostname  → resource `host.name`; service → resource `service.name` (one resource per pair)
 *   ddsource, ddtags → attributes of those names; each `key:value` tag also as attribute `key`
 *   any other field → an attribute of its name (JSON objects as maps)
 * A string message that is a JSON object adds its fields (lib/mesh/json-line.ts),
 * so an Envoy access log is classified as over OTLP. Query parameters
 * `ddsource`, `ddtags`, `service`, `hostname` (the HTTP API's) fill in fields
 * a record lacks.
 */
import { blankLogRecord, emptyResource, emptyScope, type KeyValue, type LogRecord, type LogsData, type ResourceLogs } from '../../core/model.ts';
import { addJsonLineAttributes, jsonToAnyValue } from '../../lib/mesh/json-line.ts';

export class IntakeError extends Error {
  override readonly name = 'IntakeError';
}

export interface IntakeDefaults {
  ddsource?: string;
  ddtags?: string;
  service?: string;
  hostname?: string;
}

// Datadog's status names (syslog levels and their common spellings) → OTLP severity numbers.
const SEVERITY: Record<string, number> = {
  trace: 1, debug: 5, info: 9, notice: 10, ok: 9, success: 9,
  warn: 13, warning: 13, error: 17, err: 17, critical: 18, crit: 18, alert: 19, fatal: 21, emergency: 21, emerg: 21,
};

const RESERVED = new Set(['message', 'status', 'timestamp', 'hostname', 'service', 'ddsource', 'ddtags']);

function timeOf(v: unknown, at: string): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return BigInt(Math.round(v)) * 1_000_000n;
  if (typeof v === 'string') {
    if (/^\d{1,16}$/.test(v)) return BigInt(v) * 1_000_000n;
    const ms = Date.parse(v);
    if (/^\d{4}-\d\d-\d\dT/.test(v) && Number.isFinite(ms)) return BigInt(ms) * 1_000_000n;
  }
  throw new IntakeError(`${at}.timestamp: expected milliseconds since the epoch or an RFC 3339 time, got ${JSON.stringify(v).slice(0, 40)}`);
}

function optString(o: Record<string, unknown>, key: string, at: string, fallback: string | undefined): string {
  const v = o[key];
  if (v === undefined || v === null) return fallback ?? '';
  if (typeof v !== 'string') throw new IntakeError(`${at}.${key}: expected a string`);
  return v;
}

/** `env:prod,version:1.2,team` → attributes env, version (tags without a value stay only in ddtags). */
function addTags(tags: string, into: KeyValue[]): void {
  for (const tag of tags.split(',')) {
    const i = tag.indexOf(':');
    if (i <= 0) continue;
    const key = tag.slice(0, i).trim();
    if (key && !into.some((a) => a.key === key)) into.push({ key, value: tag.slice(i + 1) });
  }
}

function isBlank(b: Buffer): boolean {
  for (let i = 0; i < b.length; i++) if (b[i] !== 32 && b[i] !== 10 && b[i] !== 13 && b[i] !== 9) return false;
  return true;
}

/** text/plain bodies (the HTTP API's other format): one log per non-empty line. */
function textItems(body: Buffer): { message: string }[] {
  const out: { message: string }[] = [];
  for (const line of body.toString('utf8').split('\n')) {
    const l = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (l) out.push({ message: l });
  }
  return out;
}

export function decodeIntake(body: Buffer, defaults: IntakeDefaults, text = false): LogsData {
  let doc: unknown;
  // The Agent checks connectivity with an empty body before choosing HTTP over TCP: zero logs, accepted.
  if (text || isBlank(body)) doc = textItems(body);
  else {
    try {
      doc = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new IntakeError(`not JSON: ${(err as Error).message}`);
    }
  }
  const items = Array.isArray(doc) ? doc : [doc];
  const observed = BigInt(Date.now()) * 1_000_000n;
  const byResource = new Map<string, ResourceLogs>();
  for (let i = 0; i < items.length; i++) {
    const o = items[i];
    const at = Array.isArray(doc) ? `[${i}]` : 'body';
    if (o === null || typeof o !== 'object' || Array.isArray(o)) throw new IntakeError(`${at}: expected a log object`);
    const item = o as Record<string, unknown>;
    const r: LogRecord = blankLogRecord();
    r.observedTimeUnixNano = observed;
    r.timeUnixNano = timeOf(item.timestamp, at);
    const status = optString(item, 'status', at, undefined);
    if (status) {
      r.severityText = status;
      r.severityNumber = SEVERITY[status.toLowerCase()] ?? 0;
    }
    const attrs: KeyValue[] = [];
    const source = optString(item, 'ddsource', at, defaults.ddsource);
    if (source) attrs.push({ key: 'ddsource', value: source });
    const tags = optString(item, 'ddtags', at, defaults.ddtags);
    if (tags) attrs.push({ key: 'ddtags', value: tags });
    for (const key in item) {
      if (RESERVED.has(key)) continue;
      const value = jsonToAnyValue(item[key]);
      if (value !== undefined) attrs.push({ key, value });
    }
    if (tags) addTags(tags, attrs);
    const message = item.message;
    if (typeof message === 'string') {
      r.body = message;
      addJsonLineAttributes(message, attrs);
    } else {
      r.body = jsonToAnyValue(message);
    }
    r.attributes = attrs;
    const host = optString(item, 'hostname', at, defaults.hostname);
    const service = optString(item, 'service', at, defaults.service);
    const key = `${host}\u0000${service}`;
    let rl = byResource.get(key);
    if (!rl) {
      const resource = emptyResource();
      if (host) resource.attributes.push({ key: 'host.name', value: host });
      if (service) resource.attributes.push({ key: 'service.name', value: service });
      rl = { resource, schemaUrl: '', scopeLogs: [{ scope: emptyScope(), schemaUrl: '', logRecords: [] }] };
      byResource.set(key, rl);
    }
    rl.scopeLogs[0]!.logRecords.push(r);
  }
  return { resourceLogs: [...byResource.values()] };
}
