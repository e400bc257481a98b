/**
 * The operators the filelog receiver runs on each record, in order: a
 * subset of stanza's parsers, plus ready parsers for the mesh's access logs.
 *
 * - `json_parser`: the body, a JSON object, into attributes (`parse_to:
 *   attributes`, default) or into the body as a map (`parse_to: body`).
 * - `regex_parser`: `regex`'s named groups into attributes (or the body).
 * - `envoy_json_parser` (trailhouse's): Envoy's / Istio's JSON access log
 *   into attributes, START_TIME as the record's time; the audit classifier
 *   then reads it as Envoy's OpenTelemetry access logger's record.
 * - `istio_text_parser` (trailhouse's): Istio's default text line into
 *   attributes, START_TIME as time; the body is kept (the classifier reads it).
 * Each takes `on_error: send` (default: the record goes on unparsed) or
 * `drop`. Every other stanza operator type is refused by name.
 */
import type { ConfigError } from '../../core/config/schema.ts';
import type { KeyValue, LogRecord } from '../../core/model.ts';
import { KvList, newLogRecord } from '../../core/model.ts';
import { addObjectAttributes } from '../../lib/mesh/json-line.ts';
import { parseIstioTextLine } from '../../lib/mesh/istio-text.ts';

/** The object a line holds, or undefined when it is not a JSON object. */
function parseJsonObject(line: string): Record<string, unknown> | undefined {
  const t = line.trimStart();
  if (t.charCodeAt(0) !== 123 /* { */) return undefined;
  try {
    const v: unknown = JSON.parse(t);
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The fields of an object as attributes (lib/mesh/json-line.ts: what every receiver of JSON lines does), as a new list. */
function objectToAttributes(o: Record<string, unknown>, into: KeyValue[] = []): KeyValue[] {
  addObjectAttributes(o, into);
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

export const OPERATOR_TYPES = ['json_parser', 'regex_parser', 'envoy_json_parser', 'istio_text_parser'] as const;
export type OperatorType = (typeof OPERATOR_TYPES)[number];

export interface OperatorConfig {
  type: OperatorType;
  id?: string;
  regex?: string;
  parse_from?: string;
  parse_to?: string;
  on_error?: 'send' | 'drop' | 'send_quiet' | 'drop_quiet';
}

const KEYS: Record<OperatorType, string[]> = {
  json_parser: ['type', 'id', 'parse_from', 'parse_to', 'on_error'],
  regex_parser: ['type', 'id', 'regex', 'parse_from', 'parse_to', 'on_error'],
  envoy_json_parser: ['type', 'id', 'on_error'],
  istio_text_parser: ['type', 'id', 'on_error'],
};

export function validateOperators(list: unknown[]): ConfigError[] {
  const errors: ConfigError[] = [];
  list.forEach((raw, i) => {
    const path = `operators[${i}]`;
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return errors.push({ path, message: 'expected a mapping with a type' });
    const o = raw as Record<string, unknown>;
    const type = o.type;
    if (typeof type !== 'string' || !(OPERATOR_TYPES as readonly string[]).includes(type)) {
      return errors.push({
        path: `${path}.type`,
        message: `operator ${JSON.stringify(type)} is not offered: filelog runs only the parsers ${OPERATOR_TYPES.join(', ')}; route, move, add, filter and the others belong in processors (attributes, transform, filter)`,
      });
    }
    for (const k of Object.keys(o)) {
      if (!KEYS[type as OperatorType].includes(k)) errors.push({ path: `${path}.${k}`, message: `not offered for ${type} (keys: ${KEYS[type as OperatorType].join(', ')})` });
    }
    if (o.parse_from !== undefined && o.parse_from !== 'body') errors.push({ path: `${path}.parse_from`, message: 'only body is offered' });
    if (o.parse_to !== undefined && o.parse_to !== 'attributes' && o.parse_to !== 'body') errors.push({ path: `${path}.parse_to`, message: 'expected attributes or body' });
    if (o.on_error !== undefined && !['send', 'drop', 'send_quiet', 'drop_quiet'].includes(o.on_error as string)) errors.push({ path: `${path}.on_error`, message: 'expected send, drop, send_quiet or drop_quiet' });
    if (type === 'regex_parser') {
      if (typeof o.regex !== 'string' || !o.regex) errors.push({ path: `${path}.regex`, message: 'required' });
      else {
        try {
          if (!/\(\?<[A-Za-z_]/.test(o.regex)) errors.push({ path: `${path}.regex`, message: 'needs at least one named group (?<name>...)' });
          new RegExp(o.regex.replace(/\(\?P</g, '(?<'));
        } catch (err) {
          errors.push({ path: `${path}.regex`, message: `not a valid regular expression: ${(err as Error).message}` });
        }
      }
    }
    return undefined;
  });
  return errors;
}

/** Applies to a record in place; false = drop it. */
export type Operator = (r: LogRecord, line: string) => boolean;

export function compileOperators(list: OperatorConfig[]): Operator[] {
  return list.map((o) => {
    const drop = o.on_error === 'drop' || o.on_error === 'drop_quiet';
    const toBody = o.parse_to === 'body';
    switch (o.type) {
      case 'json_parser':
        return (r, line) => {
          const obj = parseJsonObject(line);
          if (!obj) return !drop;
          if (toBody) r.body = new KvList(objectToAttributes(obj));
          else objectToAttributes(obj, r.attributes);
          return true;
        };
      case 'regex_parser': {
        // Go's (?P<name>) spelling, as stanza's configs use it, is accepted.
        const re = new RegExp(o.regex!.replace(/\(\?P</g, '(?<'));
        return (r, line) => {
          const m = re.exec(line);
          if (!m?.groups) return !drop;
          const kvs = Object.entries(m.groups).filter(([, v]) => v !== undefined).map(([key, value]) => ({ key, value: value as string }));
          if (toBody) r.body = new KvList(kvs);
          else r.attributes.push(...kvs);
          return true;
        };
      }
      case 'envoy_json_parser':
        return (r, line) => {
          const obj = parseJsonObject(line);
          if (!obj) return !drop;
          objectToAttributes(obj, r.attributes);
          const t = startTimeNanos(obj.start_time);
          if (t) r.timeUnixNano = t;
          return true;
        };
      case 'istio_text_parser':
        return (r, line) => {
          const f = line.charCodeAt(0) === 91 ? parseIstioTextLine(line) : undefined;
          if (!f) return !drop;
          for (const key in f) if (f[key]) r.attributes.push({ key, value: f[key] });
          const t = startTimeNanos(f.start_time);
          if (t) r.timeUnixNano = t;
          return true;
        };
    }
    throw new Error(`unknown operator ${String(o.type)}`);
  });
}

/**
 * The records path for one line: its record (body, file attributes, then
 * what the operators add), or undefined when an operator drops it.
 */
export function lineRecord(line: string, observed: bigint, name: string | undefined, path: string | undefined, ops: readonly Operator[]): LogRecord | undefined {
  const r = newLogRecord({ observedTimeUnixNano: observed, body: line });
  if (name !== undefined) r.attributes.push({ key: 'log.file.name', value: name });
  if (path !== undefined) r.attributes.push({ key: 'log.file.path', value: path });
  for (let i = 0; i < ops.length; i++) if (!ops[i]!(r, line)) return undefined;
  return r;
}

export interface BytesParser {
  /** START_TIME as the record's time (envoy_json_parser). */
  withTime: boolean;
  /** on_error drops a line that is not a JSON object. */
  drop: boolean;
}

/**
 * The operators the bytes path runs itself (encode.ts, json-attrs.ts): one
 * envoy_json_parser, or one json_parser into attributes; undefined for any
 * other list. `drop`: on_error drops a line that is not a JSON object.
 */
export function bytesParser(list: readonly OperatorConfig[]): BytesParser | undefined {
  if (list.length !== 1) return undefined;
  const o = list[0]!;
  const drop = o.on_error === 'drop' || o.on_error === 'drop_quiet';
  if (o.type === 'envoy_json_parser') return { withTime: true, drop };
  if (o.type === 'json_parser' && o.parse_to !== 'body') return { withTime: false, drop };
  return undefined;
}
