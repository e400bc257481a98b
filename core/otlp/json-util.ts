/**
 * Shared pieces of the OTLP/JSON codec (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding):
 * typed field readers that accept what the spec says a receiver must accept
 * (lowerCamelCase or the original snake_case key, 64-bit ints as strings or
 * numbers, enums as integers or names, null as the default) and fail with the
 * JSON path of the offending field.
 */
import { isUtf8 } from 'node:buffer';
import { OtlpDecodeError } from './errors.ts';

export type Obj = Record<string, unknown>;

/** Internal: carries the path outward; turned into an OtlpDecodeError at the top. */
export class FieldError extends Error {
  readonly path: string[] = [];
}

export function fail(field: string, message: string): never {
  const e = new FieldError(message);
  if (field !== '') e.path.push(field);
  throw e;
}

/** Prefixes a path segment to a FieldError travelling up; other errors pass through. */
export function withSegment(err: unknown, segment: string): unknown {
  if (err instanceof FieldError) err.path.unshift(segment);
  return err;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'string') return `string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + '…' : v)}`;
  if (typeof v === 'object') return 'an object';
  return `${typeof v} ${String(v)}`;
}

/** Parses a request body and runs `decode` on its top-level object, mapping every failure to OtlpDecodeError. */
export function parseJsonRoot<T>(input: string | Uint8Array, what: string, decode: (o: Obj) => T): T {
  let root: unknown;
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    // toString('utf8') would quietly turn invalid bytes into U+FFFD: refuse them instead (JSON is UTF-8).
    if (!isUtf8(input)) throw new OtlpDecodeError(`invalid OTLP/JSON ${what}: the body is not valid UTF-8`);
    text = Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
  }
  try {
    root = JSON.parse(text);
  } catch (e) {
    throw new OtlpDecodeError(`invalid OTLP/JSON ${what}: ${(e as Error).message}`, { cause: e });
  }
  if (root === null || typeof root !== 'object' || Array.isArray(root)) {
    throw new OtlpDecodeError(`invalid OTLP/JSON ${what}: expected a JSON object, got ${describe(root)}`);
  }
  // A \uD800-\uDFFF escape may leave a lone surrogate, which has no UTF-8 form: only
  // then (a native regex scan decides) are the parsed strings checked one by one.
  if (SURROGATE_ESCAPE.test(text)) {
    const bad = findIllFormed(root, '');
    if (bad !== undefined) throw new OtlpDecodeError(`invalid OTLP/JSON ${what}${bad ? ` at ${bad}` : ''}: a \\u escape leaves a lone UTF-16 surrogate, which is not valid UTF-8`);
  }
  try {
    return decode(asObj(root, '')!);
  } catch (e) {
    if (e instanceof FieldError) {
      const at = e.path.join('.').replace(/\.\[/g, '[');
      throw new OtlpDecodeError(`invalid OTLP/JSON ${what}${at ? ` at ${at}` : ''}: ${e.message}`);
    }
    if (e instanceof RangeError) throw new OtlpDecodeError(`invalid OTLP/JSON ${what}: ${e.message}`, { cause: e });
    throw e;
  }
}

const SURROGATE_ESCAPE = /\\u[dD][89a-fA-F]/;
// String.prototype.isWellFormed (ES2024, Node 20): no lone surrogates. Typed here, as lib is ES2022.
const wellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** The path of the first string (value or key) holding a lone surrogate, or undefined. */
function findIllFormed(v: unknown, at: string): string | undefined {
  if (typeof v === 'string') return wellFormed(v) ? undefined : at;
  if (v === null || typeof v !== 'object') return undefined;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const bad = findIllFormed(v[i], `${at}[${i}]`);
      if (bad !== undefined) return bad;
    }
    return undefined;
  }
  for (const k of Object.keys(v)) {
    const path = at ? `${at}.${k}` : k;
    if (!wellFormed(k)) return at;
    const bad = findIllFormed((v as Obj)[k], path);
    if (bad !== undefined) return bad;
  }
  return undefined;
}

/**
 * A field by its lowerCamelCase or snake_case name: own properties only, so a
 * name that Object.prototype also has can never answer with the prototype's member.
 */
export function get(o: Obj, camel: string, snake: string): unknown {
  if (Object.hasOwn(o, camel)) return o[camel];
  return snake !== camel && Object.hasOwn(o, snake) ? o[snake] : undefined;
}

/**
 * A name → number table that answers only for its own entries (`"constructor"`,
 * `"__proto__"`, `"toString"` are unknown names, not Object.prototype's members).
 */
export function lookupTable<V>(entries: Readonly<Record<string, V>>): ReadonlyMap<string, V> {
  return new Map(Object.entries(entries));
}

export function asObj(v: unknown, field: string): Obj | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) fail(field, `expected an object, got ${describe(v)}`);
  // JSON.parse keeps "__proto__" as an own key; no OTLP message has it, and code that
  // copies objects with assignment would turn it into a prototype: refuse it outright.
  if (Object.hasOwn(v, '__proto__')) fail(field, 'a "__proto__" key is not an OTLP field');
  return v as Obj;
}

export function asArr(v: unknown, field: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) fail(field, `expected an array, got ${describe(v)}`);
  return v;
}

export function str(o: Obj, camel: string, snake: string): string {
  const v = get(o, camel, snake);
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  fail(camel, `expected a string, got ${describe(v)}`);
}

const INT_RE = /^-?\d+$/;

/** A 64-bit integer given as a JSON number or a decimal string. */
export function toBigInt(v: unknown, field: string): bigint {
  if (typeof v === 'string' && INT_RE.test(v)) return BigInt(v);
  if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
  fail(field, `expected an integer (number or decimal string), got ${describe(v)}`);
}

/** uint64 (fixed64 timestamps): absent → 0n, must not be negative or exceed 2^64-1. */
export function u64(o: Obj, camel: string, snake: string): bigint {
  const v = get(o, camel, snake);
  if (v === undefined || v === null) return 0n;
  const n = toBigInt(v, camel);
  if (n < 0n || n > 0xffffffffffffffffn) fail(camel, `out of range for uint64: ${n}`);
  return n;
}

/** uint32 / fixed32 counts and flags. */
export function u32(o: Obj, camel: string, snake: string): number {
  const v = get(o, camel, snake);
  if (v === undefined || v === null) return 0;
  const n = typeof v === 'number' && Number.isInteger(v) ? v : typeof v === 'string' && INT_RE.test(v) ? Number(v) : NaN;
  if (!(n >= 0 && n <= 0xffffffff)) fail(camel, `expected a uint32, got ${describe(v)}`);
  return n;
}

/** An enum given as its integer value or its name. */
export function enumField(o: Obj, camel: string, snake: string, names: ReadonlyMap<string, number>): number {
  const v = get(o, camel, snake);
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff) return v;
  if (typeof v === 'string') {
    const n = names.get(v);
    if (n !== undefined) return n;
  }
  fail(camel, `expected an enum number or name, got ${describe(v)}`);
}

const ZERO = /^0*$/;

/** Trace / span id as hex (OTLP/JSON's deviation from proto3 JSON, which would use base64). */
export function hexId(o: Obj, camel: string, snake: string, bytes: 8 | 16): string {
  const v = get(o, camel, snake);
  if (v === undefined || v === null || v === '') return '';
  if (typeof v !== 'string' || v.length !== bytes * 2 || !/^[0-9a-fA-F]+$/.test(v)) {
    fail(camel, `expected ${bytes * 2} hex characters, got ${describe(v)}`);
  }
  return ZERO.test(v) ? '' : v.toLowerCase();
}

const BASE64_RE = /^[A-Za-z0-9+/\-_]*={0,2}$/;

export function base64Bytes(v: unknown, field: string): Uint8Array {
  if (typeof v !== 'string' || !BASE64_RE.test(v)) fail(field, `expected base64, got ${describe(v)}`);
  return new Uint8Array(Buffer.from(v, 'base64'));
}

/** Decodes each element of an array field, adding `name[i]` to error paths. */
export function mapArr<T>(o: Obj, camel: string, snake: string, decode: (v: unknown) => T): T[] {
  const a = asArr(get(o, camel, snake), camel);
  const out: T[] = new Array(a.length);
  for (let i = 0; i < a.length; i++) {
    try {
      out[i] = decode(a[i]);
    } catch (e) {
      throw withSegment(e, `${camel}[${i}]`);
    }
  }
  return out;
}

/** Decodes an object field, adding its name to error paths. */
export function subObj<T>(o: Obj, camel: string, snake: string, decode: (v: Obj | undefined) => T): T {
  try {
    return decode(asObj(get(o, camel, snake), ''));
  } catch (e) {
    throw withSegment(e, camel);
  }
}

/** Element of an array that must be an object. */
export function elemObj(v: unknown): Obj {
  const o = asObj(v, '');
  if (o === undefined) fail('', 'expected an object, got null');
  return o;
}
