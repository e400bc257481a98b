/**
 * pcommon `Value.AsString()`, the way the Collector's ClickHouse exporter
 * renders every attribute value and a log's Body into a String column:
 *
 * - string as is, int as decimal, bool `true`/`false`, bytes as standard
 *   base64, empty as '';
 * - double as Go's encoding/json prints a float64 (ES6 number-to-string:
 *   plain decimal for 1e-6 <= |x| < 1e21, exponent form outside, `-0` kept);
 *   NaN and ±Inf as `json: unsupported value: NaN|+Inf|-Inf`;
 * - maps and arrays as JSON of their raw values (encoding/json without HTML
 *   escaping): map keys sorted, duplicate keys last-wins, ints as JSON
 *   numbers, bytes as base64 strings, empty as null. A NaN/Inf anywhere inside
 *   makes json.Marshal fail, and AsString then yields ''.
 */
import type { AnyValue, KvList } from '../model.ts';

const NAN_OR_INF = Symbol('nan-or-inf');

export function asString(v: AnyValue): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'bigint':
      return v.toString();
    case 'number':
      return formatDouble(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return '';
    default:
      if (v instanceof Uint8Array) return base64(v);
      try {
        return Array.isArray(v) ? jsonArray(v) : jsonMap(v);
      } catch (err) {
        if (err === NAN_OR_INF) return '';
        throw err;
      }
  }
}

/** Go's float64AsString (pdata) / encoding/json floatEncoder. */
export function formatDouble(f: number): string {
  if (!Number.isFinite(f)) return `json: unsupported value: ${Number.isNaN(f) ? 'NaN' : f > 0 ? '+Inf' : '-Inf'}`;
  if (f === 0) return Object.is(f, -0) ? '-0' : '0';
  // JS Number#toString uses the same ES6 algorithm and the same cutoffs
  // (exponent form below 1e-6 and from 1e21) and prints `e-7`, as Go does
  // after trimming its two-digit exponent.
  return String(f);
}

export function base64(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('base64');
}

// Characters Go's encoder writes differently from JSON.stringify: U+2028/2029
// are escaped, and lone surrogates (invalid UTF-8 once encoded) become U+FFFD.
const GO_DIFF = /[\u2028\u2029\ud800-\udfff]/;
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** A JSON string literal as Go's encoding/json (SetEscapeHTML(false)) writes it. */
export function goJsonString(s: string): string {
  const out = JSON.stringify(s);
  if (!GO_DIFF.test(s)) return out;
  return JSON.stringify(s.replace(LONE_SURROGATE, '\ufffd')).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

function jsonValue(v: AnyValue): string {
  switch (typeof v) {
    case 'string':
      return goJsonString(v);
    case 'bigint':
      return v.toString();
    case 'number':
      if (!Number.isFinite(v)) throw NAN_OR_INF;
      return formatDouble(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return 'null';
    default:
      if (v instanceof Uint8Array) return `"${base64(v)}"`;
      return Array.isArray(v) ? jsonArray(v) : jsonMap(v);
  }
}

function jsonArray(a: AnyValue[]): string {
  let s = '[';
  for (let i = 0; i < a.length; i++) s += (i ? ',' : '') + jsonValue(a[i]);
  return s + ']';
}

/** Go sorts map keys by their UTF-8 bytes, which is code point order. */
function compareCodePoints(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.codePointAt(i)!;
    const y = b.codePointAt(i)!;
    if (x !== y) return x - y;
    if (x > 0xffff) i++;
  }
  return a.length - b.length;
}

function jsonMap(m: KvList): string {
  const byKey = new Map<string, AnyValue>();
  for (const kv of m.values) byKey.set(kv.key, kv.value);
  const keys = [...byKey.keys()].sort(compareCodePoints);
  let s = '{';
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    s += (i ? ',' : '') + goJsonString(k) + ':' + jsonValue(byKey.get(k));
  }
  return s + '}';
}
