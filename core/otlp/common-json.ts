/**
 * common.v1 / resource.v1 messages in OTLP/JSON. AnyValue is an object with one
 * of stringValue, boolValue, intValue (int64: string or number), doubleValue
 * (number, or "NaN"/"Infinity"/"-Infinity"), arrayValue {values}, kvlistValue
 * {values}, bytesValue (base64); `{}` is the empty value.
 */
import { KvList } from '../model.ts';
import type { AnyValue, InstrumentationScope, KeyValue, Resource } from '../model.ts';
import {
  asObj, base64Bytes, elemObj, fail, get, lookupTable, mapArr, str, toBigInt, u32, withSegment,
} from './json-util.ts';
import type { Obj } from './json-util.ts';
import { MAX_DEPTH } from './protowire.ts';

const SPECIAL_DOUBLES = lookupTable<number>({ NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity });

export function anyValueFromJson(v: unknown, depth = 0): AnyValue {
  const o = asObj(v, '');
  if (o === undefined) return undefined;
  if (depth > MAX_DEPTH) fail('', `AnyValue nested deeper than ${MAX_DEPTH}`);
  let x = get(o, 'stringValue', 'string_value');
  if (x !== undefined && x !== null) {
    if (typeof x !== 'string') fail('stringValue', 'expected a string');
    return x;
  }
  x = get(o, 'boolValue', 'bool_value');
  if (x !== undefined && x !== null) {
    if (typeof x !== 'boolean') fail('boolValue', 'expected a boolean');
    return x;
  }
  x = get(o, 'intValue', 'int_value');
  if (x !== undefined && x !== null) return BigInt.asIntN(64, toBigInt(x, 'intValue'));
  x = get(o, 'doubleValue', 'double_value');
  if (x !== undefined && x !== null) {
    if (typeof x === 'number') return x;
    if (typeof x === 'string') {
      const special = SPECIAL_DOUBLES.get(x);
      if (special !== undefined) return special;
      const n = Number(x);
      if (x.trim() !== '' && !Number.isNaN(n)) return n;
    }
    fail('doubleValue', 'expected a number');
  }
  x = get(o, 'arrayValue', 'array_value');
  if (x !== undefined && x !== null) {
    const arr = asObj(x, 'arrayValue')!;
    return mapArr(arr, 'values', 'values', (e) => anyValueFromJson(e, depth + 1));
  }
  x = get(o, 'kvlistValue', 'kvlist_value');
  if (x !== undefined && x !== null) {
    const kv = asObj(x, 'kvlistValue')!;
    return new KvList(mapArr(kv, 'values', 'values', (e) => keyValueFromJson(e, depth + 1)));
  }
  x = get(o, 'bytesValue', 'bytes_value');
  if (x !== undefined && x !== null) return base64Bytes(x, 'bytesValue');
  return undefined;
}

export function keyValueFromJson(v: unknown, depth = 0): KeyValue {
  const o = elemObj(v);
  const value = get(o, 'value', 'value');
  return { key: str(o, 'key', 'key'), value: value === undefined ? undefined : anyValueFromJsonAt(value, depth) };
}

function anyValueFromJsonAt(v: unknown, depth: number): AnyValue {
  try {
    return anyValueFromJson(v, depth);
  } catch (e) {
    throw withSegment(e, 'value');
  }
}

export function attributesFromJson(o: Obj): KeyValue[] {
  return mapArr(o, 'attributes', 'attributes', (e) => keyValueFromJson(e));
}

export function resourceFromJson(o: Obj | undefined): Resource {
  if (o === undefined) return { attributes: [], droppedAttributesCount: 0 };
  return {
    attributes: attributesFromJson(o),
    droppedAttributesCount: u32(o, 'droppedAttributesCount', 'dropped_attributes_count'),
  };
}

export function scopeFromJson(o: Obj | undefined): InstrumentationScope {
  if (o === undefined) return { name: '', version: '', attributes: [], droppedAttributesCount: 0 };
  return {
    name: str(o, 'name', 'name'),
    version: str(o, 'version', 'version'),
    attributes: attributesFromJson(o),
    droppedAttributesCount: u32(o, 'droppedAttributesCount', 'dropped_attributes_count'),
  };
}

// ---------------------------------------------------------------- encode

export function anyValueToJson(v: AnyValue): Obj {
  switch (typeof v) {
    case 'string':
      return { stringValue: v };
    case 'boolean':
      return { boolValue: v };
    case 'bigint':
      return { intValue: v.toString() };
    case 'number':
      return { doubleValue: Number.isFinite(v) ? v : String(v) };
    case 'undefined':
      return {};
  }
  if (v instanceof Uint8Array) return { bytesValue: Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('base64') };
  if (Array.isArray(v)) return { arrayValue: { values: v.map(anyValueToJson) } };
  if (v instanceof KvList) return { kvlistValue: { values: attributesToJson(v.values) } };
  throw new TypeError(`not an attribute value: ${Object.prototype.toString.call(v)}`);
}

export function attributesToJson(attrs: readonly KeyValue[]): Obj[] {
  const out: Obj[] = new Array(attrs.length);
  for (let i = 0; i < attrs.length; i++) out[i] = { key: attrs[i]!.key, value: anyValueToJson(attrs[i]!.value) };
  return out;
}

/** Sets `o[key] = value` only for non-default values (proto3 JSON omits defaults). */
export function put(o: Obj, key: string, value: string | number | bigint | unknown[]): void {
  if (typeof value === 'bigint') {
    if (value !== 0n) o[key] = value.toString();
  } else if (Array.isArray(value)) {
    if (value.length !== 0) o[key] = value;
  } else if (value !== '' && value !== 0) {
    o[key] = value;
  }
}

export function resourceToJson(r: Resource): Obj {
  const o: Obj = {};
  put(o, 'attributes', attributesToJson(r.attributes));
  put(o, 'droppedAttributesCount', r.droppedAttributesCount);
  return o;
}

export function scopeToJson(s: InstrumentationScope): Obj {
  const o: Obj = {};
  put(o, 'name', s.name);
  put(o, 'version', s.version);
  put(o, 'attributes', attributesToJson(s.attributes));
  put(o, 'droppedAttributesCount', s.droppedAttributesCount);
  return o;
}
