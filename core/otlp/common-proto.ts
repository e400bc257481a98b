/**
 * opentelemetry.proto.common.v1 and resource.v1 messages on the protobuf wire.
 *
 *   AnyValue: 1 string_value, 2 bool_value, 3 int_value (int64), 4 double_value,
 *             5 array_value (ArrayValue{1 values}), 6 kvlist_value (KeyValueList{1 values}),
 *             7 bytes_value
 *   KeyValue: 1 key, 2 value
 *   InstrumentationScope: 1 name, 2 version, 3 attributes, 4 dropped_attributes_count
 *   Resource: 1 attributes, 2 dropped_attributes_count (3 entity_refs: development, skipped)
 *
 * Decoders take the reader positioned on a length prefix and the end of the
 * enclosing message (`limit`); tags are matched as whole `field << 3 | wire type`.
 */
import { KvList } from '../model.ts';
import type { AnyValue, InstrumentationScope, KeyValue, Resource } from '../model.ts';
import { MAX_DEPTH, fields } from './protowire.ts';
import type { Reader, Writer } from './protowire.ts';

const ANY_FIELDS = fields(1, 2, 3, 4, 5, 6, 7);
const LIST_FIELDS = fields(1);
const KV_FIELDS = fields(1, 2);
const SCOPE_FIELDS = fields(1, 2, 3, 4);
const RESOURCE_FIELDS = fields(1, 2);

export function readAnyValue(r: Reader, limit: number, depth: number): AnyValue {
  const end = r.lenEnd(limit);
  if (depth > MAX_DEPTH) r.fail(`AnyValue nested deeper than ${MAX_DEPTH}`);
  let v: AnyValue = undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x0a: v = r.string(end); break;
      case 0x10: v = r.bool(); break;
      case 0x18: v = r.int64(); break;
      case 0x21: v = r.double(); break;
      case 0x2a: v = readArrayValue(r, end, depth + 1); break;
      case 0x32: v = new KvList(readKeyValueList(r, end, depth + 1)); break;
      case 0x3a: v = r.bytes(end); break;
      default: r.other(tag, ANY_FIELDS, end, 'AnyValue');
    }
  }
  r.expectEnd(end, 'AnyValue');
  return v;
}

function readArrayValue(r: Reader, limit: number, depth: number): AnyValue[] {
  const end = r.lenEnd(limit);
  const out: AnyValue[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 0x0a) out.push(readAnyValue(r, end, depth));
    else r.other(tag, LIST_FIELDS, end, 'ArrayValue');
  }
  r.expectEnd(end, 'ArrayValue');
  return out;
}

function readKeyValueList(r: Reader, limit: number, depth: number): KeyValue[] {
  const end = r.lenEnd(limit);
  const out: KeyValue[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 0x0a) out.push(readKeyValue(r, end, depth));
    else r.other(tag, LIST_FIELDS, end, 'KeyValueList');
  }
  r.expectEnd(end, 'KeyValueList');
  return out;
}

export function readKeyValue(r: Reader, limit: number, depth = 0): KeyValue {
  const end = r.lenEnd(limit);
  let key = '';
  let value: AnyValue = undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 0x0a) key = r.key(end);
    else if (tag === 0x12) value = readAnyValue(r, end, depth);
    else r.other(tag, KV_FIELDS, end, 'KeyValue');
  }
  r.expectEnd(end, 'KeyValue');
  return { key, value };
}

/** Decodes into `into`, merging as protobuf does when the field repeats. */
export function readScope(r: Reader, limit: number, into: InstrumentationScope): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x0a: into.name = r.string(end); break;
      case 0x12: into.version = r.string(end); break;
      case 0x1a: into.attributes.push(readKeyValue(r, end)); break;
      case 0x20: into.droppedAttributesCount = r.uint32(); break;
      default: r.other(tag, SCOPE_FIELDS, end, 'InstrumentationScope');
    }
  }
  r.expectEnd(end, 'InstrumentationScope');
}

export function readResource(r: Reader, limit: number, into: Resource): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 0x0a) into.attributes.push(readKeyValue(r, end));
    else if (tag === 0x10) into.droppedAttributesCount = r.uint32();
    else r.other(tag, RESOURCE_FIELDS, end, 'Resource');
  }
  r.expectEnd(end, 'Resource');
}

// ---------------------------------------------------------------- encode

/** Writes the fields of an AnyValue message (the caller frames it). */
function writeAnyValueBody(w: Writer, v: AnyValue): void {
  switch (typeof v) {
    case 'string':
      w.string(1, v);
      return;
    case 'boolean':
      w.tag(2, 0);
      w.uint32(v ? 1 : 0);
      return;
    case 'bigint':
      w.tag(3, 0);
      w.int64(v);
      return;
    case 'number':
      w.tag(4, 1);
      w.double(v);
      return;
    case 'undefined':
      return;
  }
  if (v instanceof Uint8Array) {
    w.bytes(7, v);
  } else if (Array.isArray(v)) {
    const at = w.startMessage(5);
    for (let i = 0; i < v.length; i++) {
      const item = w.startMessage(1);
      writeAnyValueBody(w, v[i]);
      w.endMessage(item);
    }
    w.endMessage(at);
  } else if (v instanceof KvList) {
    const at = w.startMessage(6);
    writeAttributes(w, 1, v.values);
    w.endMessage(at);
  } else {
    throw new TypeError(`not an attribute value: ${Object.prototype.toString.call(v)}`);
  }
}

export function writeAnyValue(w: Writer, field: number, v: AnyValue): void {
  const at = w.startMessage(field);
  writeAnyValueBody(w, v);
  w.endMessage(at);
}

/** Writes `attrs` as a repeated KeyValue field. */
export function writeAttributes(w: Writer, field: number, attrs: readonly KeyValue[]): void {
  for (let i = 0; i < attrs.length; i++) writeKeyValue(w, field, attrs[i]!.key, attrs[i]!.value);
}

/** One KeyValue as field `field` (translators that write attributes without building KeyValue objects). */
export function writeKeyValue(w: Writer, field: number, key: string, value: AnyValue): void {
  const at = w.startMessage(field);
  if (key !== '') w.string(1, key);
  writeAnyValue(w, 2, value);
  w.endMessage(at);
}

export function writeUint32Field(w: Writer, field: number, v: number): void {
  if (v !== 0) {
    w.tag(field, 0);
    w.uint32(v);
  }
}

/** An enum (int32): negatives are sign-extended to 10 bytes, as protobuf requires. */
export function writeEnumField(w: Writer, field: number, v: number): void {
  if (v === 0) return;
  w.tag(field, 0);
  if (v < 0) w.int64(BigInt(v));
  else w.uint32(v);
}

export function writeStringField(w: Writer, field: number, s: string): void {
  if (s !== '') w.string(field, s);
}

/** Always written, as the Collector does: both are non-nullable in pdata. */
export function writeResource(w: Writer, field: number, res: Resource): void {
  const at = w.startMessage(field);
  writeAttributes(w, 1, res.attributes);
  writeUint32Field(w, 2, res.droppedAttributesCount);
  w.endMessage(at);
}

export function writeScope(w: Writer, field: number, scope: InstrumentationScope): void {
  const at = w.startMessage(field);
  writeStringField(w, 1, scope.name);
  writeStringField(w, 2, scope.version);
  writeAttributes(w, 3, scope.attributes);
  writeUint32Field(w, 4, scope.droppedAttributesCount);
  w.endMessage(at);
}
