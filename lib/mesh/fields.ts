/**
 * Reading a log record as an access-log entry: one flat map of logical
 * fields (config.ts `DEFAULT_ATTRIBUTES`), from the record's attributes and,
 * when the body is Istio's default text line, from that line.
 */
import { KvList, type AnyValue, type LogRecord } from '../../core/model.ts';
import { KeyMap, KeySet } from '../../core/otlp/log-view.ts';
import { DEFAULT_ATTRIBUTES, type AttributeMap, type Field } from './attributes.ts';
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

/**
 * Attribute name → (field, rank): one Map lookup per attribute of a record
 * instead of one per candidate name per field (records carry tens of
 * attributes; this runs for every record).
 */
export interface Slot {
  field: Field;
  rank: number;
}

const lookups = new WeakMap<AttributeMap, Map<string, Slot[]>>();

function lookupFor(map: AttributeMap): Map<string, Slot[]> {
  let m = lookups.get(map);
  if (m) return m;
  m = new Map();
  for (const f of Object.keys(map) as Field[]) {
    map[f].forEach((name, rank) => {
      let slots = m!.get(name);
      if (!slots) m!.set(name, (slots = []));
      slots.push({ field: f, rank });
    });
  }
  lookups.set(map, m);
  return m;
}

export function readAccess(record: LogRecord, map: AttributeMap): AccessView | undefined {
  const b = new AccessBuilder();
  b.body(record.body);
  const attrs = record.attributes;
  if (attrs.length) {
    const lookup = lookupFor(map);
    for (let i = 0; i < attrs.length; i++) {
      const slots = lookup.get(attrs[i]!.key);
      if (slots) b.attribute(slots, str(attrs[i]!.value));
    }
  }
  return b.finish();
}

/** The slots of attribute name `key` in `map` (undefined: a name it does not read). */
export function slotsOf(map: AttributeMap, key: string): readonly Slot[] | undefined {
  return lookupFor(map).get(key);
}

/** Every attribute name of `map`, matched on the wire (records read from the bytes: audit, correlate). */
export function accessKeys(map: AttributeMap): KeySet {
  let k = keySets.get(map);
  if (!k) keySets.set(map, (k = new KeySet(Object.values(map).flat())));
  return k;
}

const keySets = new WeakMap<AttributeMap, KeySet>();

/** The slots of every attribute name of `map`, by the name's UTF-8 bytes (for records read from the wire). */
export function slotsByBytes(map: AttributeMap): KeyMap<readonly Slot[]> {
  let m = byteLookups.get(map);
  if (!m) byteLookups.set(map, (m = new KeyMap(lookupFor(map))));
  return m;
}

const byteLookups = new WeakMap<AttributeMap, KeyMap<readonly Slot[]>>();

/**
 * An AccessView being read: the body first (fields of an Istio text line
 * are never overridden by attributes), then each attribute whose name is
 * in the map, in the record's order, as its slots and its value as `str`
 * gives it.
 */
export class AccessBuilder {
  private readonly fields: AccessFields = {};
  private format: SourceFormat | undefined;
  private startTime: string | undefined;
  private fromText = false;
  /** Best (lowest) rank seen per field. */
  private readonly ranks: Partial<Record<Field, number>> = {};
  /** RBAC result/policy pairs: the rank of the result decides which policy belongs to it. */
  private readonly policyByRank: Partial<Record<Field, string[]>> = {};

  body(body: AnyValue): void {
    if (typeof body !== 'string' || body.charCodeAt(0) !== 91 /* [ */) return;
    const line = parseIstioTextLine(body);
    if (!line) return;
    this.format = 'istio_text';
    this.fromText = true;
    this.startTime = line.start_time;
    for (const k in TEXT_TO_FIELD) if (line[k]) this.fields[TEXT_TO_FIELD[k]!] = line[k];
  }

  attribute(slots: readonly Slot[], v: string): void {
    if (!v) return;
    const { fields, ranks } = this;
    for (const { field, rank } of slots) {
      if (field === 'shadow_policy' || field === 'enforced_policy') {
        (this.policyByRank[field] ??= [])[rank] = v;
        continue;
      }
      if (this.fromText && fields[field] !== undefined && ranks[field] === undefined) continue;
      const best = ranks[field];
      if (best === undefined || rank < best) {
        ranks[field] = rank;
        fields[field] = v;
      }
    }
  }

  finish(): AccessView | undefined {
    const fields = this.fields;
    pair('shadow_result', 'shadow_policy', this.ranks, this.policyByRank, fields);
    pair('enforced_result', 'enforced_policy', this.ranks, this.policyByRank, fields);
    let format = this.format;
    if (!format) {
      if (!ACCESS_MARKERS.some((f) => fields[f])) return undefined;
      format = fields.response_flags !== undefined || fields.upstream_cluster !== undefined || fields.response_code_details !== undefined ? 'envoy' : 'semconv';
    }
    return { fields, format, startTime: this.startTime };
  }
}

function pair(result: Field, policy: Field, ranks: Partial<Record<Field, number>>, byRank: Partial<Record<Field, string[]>>, out: AccessFields): void {
  const r = ranks[result];
  if (r === undefined) return;
  const p = byRank[policy]?.[r];
  if (p) out[policy] = p;
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
