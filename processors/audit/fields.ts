/**
 * Reading a log record as an access-log entry: one flat map of logical
 * fields (config.ts `DEFAULT_ATTRIBUTES`), from the record's attributes and,
 * when the body is Istio's default text line, from that line.
 */
import { KvList, type AnyValue, type KeyValue, type LogRecord } from '../../core/model.ts';
import { DEFAULT_ATTRIBUTES, type AttributeMap, type Field } from './config.ts';
import { parseIstioTextLine } from './istio-text.ts';

export type AccessFields = Partial<Record<Field, string>>;

/** The source a record was read as; kept in details.format. */
export type SourceFormat = 'istio_text' | 'envoy' | 'semconv';

export function resolveAttributeMap(overrides: Partial<AttributeMap>): AttributeMap {
  const out = {} as AttributeMap;
  for (const k of Object.keys(DEFAULT_ATTRIBUTES) as Field[]) out[k] = overrides[k] ?? [...DEFAULT_ATTRIBUTES[k]];
  return out;
}

/** An attribute value as a string ('' when absent or Envoy's `-`); arrays give their first element. */
export function str(v: AnyValue): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v === '-' ? '' : v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return v.length ? str(v[0]) : '';
  return '';
}

// Istio text-line field name → logical field.
const TEXT_TO_FIELD: Record<string, Field> = {
  response_code: 'status_code',
  method: 'method',
  path: 'path',
  authority: 'authority',
  downstream_remote_address: 'client_address',
  upstream_host: 'upstream_host',
  upstream_cluster: 'upstream_cluster',
  requested_server_name: 'requested_server_name',
  downstream_local_address: 'downstream_local_address',
  response_flags: 'response_flags',
  response_code_details: 'response_code_details',
  connection_termination_details: 'connection_termination_details',
  upstream_transport_failure_reason: 'upstream_transport_failure_reason',
  x_request_id: 'request_id',
  user_agent: 'user_agent',
  x_forwarded_for: 'x_forwarded_for',
};

// Fields whose presence marks a record as an access-log entry at all.
const ACCESS_MARKERS: Field[] = ['status_code', 'response_flags', 'response_code_details', 'connection_termination_details', 'path', 'upstream_transport_failure_reason', 'downstream_transport_failure_reason'];

export interface AccessView {
  fields: AccessFields;
  format: SourceFormat;
  /** The text line's START_TIME, when the record carried no timestamp. */
  startTime?: string;
}

/** Builds an attribute index once per record (records carry tens of attributes; lookups are many). */
function index(attrs: readonly KeyValue[]): Map<string, AnyValue> {
  const m = new Map<string, AnyValue>();
  for (const kv of attrs) if (!m.has(kv.key)) m.set(kv.key, kv.value);
  return m;
}

export function readAccess(record: LogRecord, map: AttributeMap): AccessView | undefined {
  const fields: AccessFields = {};
  let format: SourceFormat | undefined;
  let startTime: string | undefined;
  const body = record.body;
  if (typeof body === 'string' && body.charCodeAt(0) === 91 /* [ */) {
    const line = parseIstioTextLine(body);
    if (line) {
      format = 'istio_text';
      startTime = line.start_time;
      for (const [k, f] of Object.entries(TEXT_TO_FIELD)) if (line[k]) fields[f] = line[k];
    }
  }
  if (record.attributes.length) {
    const attrs = index(record.attributes);
    const fieldNames = Object.keys(map) as Field[];
    for (const f of fieldNames) {
      if (fields[f]) continue;
      for (const name of map[f]) {
        const v = str(attrs.get(name));
        if (v) {
          fields[f] = v;
          break;
        }
      }
    }
    // Result and policy of one RBAC engine come from the same position in their lists.
    pair(attrs, map, 'shadow_result', 'shadow_policy', fields);
    pair(attrs, map, 'enforced_result', 'enforced_policy', fields);
  }
  if (!format) {
    if (!ACCESS_MARKERS.some((f) => fields[f])) return undefined;
    format = fields.response_flags !== undefined || fields.upstream_cluster !== undefined || fields.response_code_details !== undefined ? 'envoy' : 'semconv';
  }
  return { fields, format, startTime };
}

function pair(attrs: Map<string, AnyValue>, map: AttributeMap, result: Field, policy: Field, out: AccessFields): void {
  const rs = map[result];
  const ps = map[policy];
  for (let i = 0; i < rs.length; i++) {
    const r = str(attrs.get(rs[i]!));
    if (!r) continue;
    out[result] = r;
    const p = ps[i] !== undefined ? str(attrs.get(ps[i]!)) : '';
    if (p) out[policy] = p;
    else delete out[policy];
    return;
  }
}

/** A KvList body as a plain JS object (for JSON-shaped bodies already decoded by an upstream parser). */
export function toPlain(v: AnyValue): unknown {
  if (v instanceof KvList) {
    const o: Record<string, unknown> = {};
    for (const kv of v.values) o[kv.key] = toPlain(kv.value);
    return o;
  }
  if (Array.isArray(v)) return v.map(toPlain);
  if (typeof v === 'bigint') return Number(v);
  return v;
}
