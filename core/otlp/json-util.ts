/**
 * Shared pieces of the OTLP/JSON codec (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding):
 * typed field readers that accept what the spec says a receiver must accept
 * (lowerCamelCase or the original snake_case key, 64-bit ints as strings or
 * numbers, enums as integers or names, null as the default) and fail with the
 * JSON path of the offending field.
 */
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
  try {
    const text = typeof input === 'string' ? input : Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString('utf8');
    root = JSON.parse(text);
  } catch (e) {
    throw new OtlpDecodeError(`invalid OTLP/JSON ${what}: ${(e as Error).message}`, { cause: e });
  }
  if (root === null || typeof root !== 'object' || Array.isArray(root)) {
    throw new OtlpDecodeError(`invalid OTLP/JSON ${what}: expected a JSON object, got ${describe(root)}`);
  }
  try {
    return decode(root as Obj);
  } catch (e) {
    if (e instanceof FieldError) {
      const at = e.path.join('.').replace(/\.\[/g, '[');
      throw new OtlpDecodeError(`invalid OTLP/JSON ${what}${at ? ` at ${at}` : ''}: ${e.message}`);
    }
    if (e instanceof RangeError) throw new OtlpDecodeError(`invalid OTLP/JSON ${what}: ${e.message}`, { cause: e });
    throw e;
  }
}

export function get(o: Obj, camel: string, snake: string): unknown {
  const v = o[camel];
  return v !== undefined ? v : o[snake];
}

export function asObj(v: unknown, field: string): Obj | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'object' || Array.isArray(v)) fail(field, `expected an object, got ${describe(v)}`);
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
export function enumField(o: Obj, camel: string, snake: string, names: Readonly<Record<string, number>>): number {
  const v = get(o, camel, snake);
  if (v === undefined || v === null) return 0;
  if (typeof v === 'number' && Number.isInteger(v) && v >= -0x80000000 && v <= 0x7fffffff) return v;
  if (typeof v === 'string') {
    const n = names[v];
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
