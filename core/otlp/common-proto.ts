/**
 * opentelemetry.proto.common.v1 and resource.v1 messages on the protobuf wire
 * (AnyValue, ArrayValue, KeyValueList, KeyValue, InstrumentationScope, Resource;
 * Resource.entity_refs is development-only, not vendored, so skipped as unknown).
 * Field numbers and tags: wire-fields.gen.ts, generated from proto/.
 *
 * Decoders take the reader positioned on a length prefix and the end of the
 * enclosing message (`limit`); tags are matched as whole `field << 3 | wire type`.
 */
import { KvList } from '../model.ts';
import type { AnyValue, InstrumentationScope, KeyValue, Resource } from '../model.ts';
import { MAX_DEPTH } from './protowire.ts';
import type { Reader, Writer } from './protowire.ts';
import {
  AnyValueField, AnyValueTag, ArrayValueField, ArrayValueTag, InstrumentationScopeField,
  InstrumentationScopeTag, KeyValueField, KeyValueListField, KeyValueListTag, KeyValueTag, ResourceField,
  ResourceTag, otlpKnown,
} from './wire-fields.gen.ts';

export function readAnyValue(r: Reader, limit: number, depth: number): AnyValue {
  const end = r.lenEnd(limit);
  if (depth > MAX_DEPTH) r.fail(`AnyValue nested deeper than ${MAX_DEPTH}`);
  let v: AnyValue = undefined;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case AnyValueTag.string_value: v = r.string(end); break;
      case AnyValueTag.bool_value: v = r.bool(); break;
      case AnyValueTag.int_value: v = r.int64(); break;
      case AnyValueTag.double_value: v = r.double(); break;
      case AnyValueTag.array_value: v = readArrayValue(r, end, depth + 1); break;
      case AnyValueTag.kvlist_value: v = new KvList(readKeyValueList(r, end, depth + 1)); break;
      case AnyValueTag.bytes_value: v = r.bytes(end); break;
      default: r.other(tag, otlpKnown.AnyValue, end, 'AnyValue');
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
    if (tag === ArrayValueTag.values) out.push(readAnyValue(r, end, depth));
    else r.other(tag, otlpKnown.ArrayValue, end, 'ArrayValue');
  }
  r.expectEnd(end, 'ArrayValue');
  return out;
}

function readKeyValueList(r: Reader, limit: number, depth: number): KeyValue[] {
  const end = r.lenEnd(limit);
  const out: KeyValue[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === KeyValueListTag.values) out.push(readKeyValue(r, end, depth));
    else r.other(tag, otlpKnown.KeyValueList, end, 'KeyValueList');
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
    if (tag === KeyValueTag.key) key = r.key(end);
    else if (tag === KeyValueTag.value) value = readAnyValue(r, end, depth);
    else r.other(tag, otlpKnown.KeyValue, end, 'KeyValue');
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
      case InstrumentationScopeTag.name: into.name = r.string(end); break;
      case InstrumentationScopeTag.version: into.version = r.string(end); break;
      case InstrumentationScopeTag.attributes: into.attributes.push(readKeyValue(r, end)); break;
      case InstrumentationScopeTag.dropped_attributes_count: into.droppedAttributesCount = r.uint32(); break;
      default: r.other(tag, otlpKnown.InstrumentationScope, end, 'InstrumentationScope');
    }
  }
  r.expectEnd(end, 'InstrumentationScope');
}

export function readResource(r: Reader, limit: number, into: Resource): void {
  const end = r.lenEnd(limit);
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ResourceTag.attributes) into.attributes.push(readKeyValue(r, end));
    else if (tag === ResourceTag.dropped_attributes_count) into.droppedAttributesCount = r.uint32();
    else r.other(tag, otlpKnown.Resource, end, 'Resource');
  }
  r.expectEnd(end, 'Resource');
}

// ---------------------------------------------------------------- encode

/** Writes the fields of an AnyValue message (the caller frames it). */
function writeAnyValueBody(w: Writer, v: AnyValue): void {
  switch (typeof v) {
    case 'string':
      w.string(AnyValueField.string_value, v);
      return;
    case 'boolean':
      w.uint32(AnyValueTag.bool_value);
      w.uint32(v ? 1 : 0);
      return;
    case 'bigint':
      w.uint32(AnyValueTag.int_value);
      w.int64(v);
      return;
    case 'number':
      w.uint32(AnyValueTag.double_value);
      w.double(v);
      return;
    case 'undefined':
      return;
  }
  if (v instanceof Uint8Array) {
    w.bytes(AnyValueField.bytes_value, v);
  } else if (Array.isArray(v)) {
    const at = w.startMessage(AnyValueField.array_value);
    for (let i = 0; i < v.length; i++) {
      const item = w.startMessage(ArrayValueField.values);
      writeAnyValueBody(w, v[i]);
      w.endMessage(item);
    }
    w.endMessage(at);
  } else if (v instanceof KvList) {
    const at = w.startMessage(AnyValueField.kvlist_value);
    writeAttributes(w, KeyValueListField.values, v.values);
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
  if (key !== '') w.string(KeyValueField.key, key);
  writeAnyValue(w, KeyValueField.value, value);
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
  writeAttributes(w, ResourceField.attributes, res.attributes);
  writeUint32Field(w, ResourceField.dropped_attributes_count, res.droppedAttributesCount);
  w.endMessage(at);
}

export function writeScope(w: Writer, field: number, scope: InstrumentationScope): void {
  const at = w.startMessage(field);
  writeStringField(w, InstrumentationScopeField.name, scope.name);
  writeStringField(w, InstrumentationScopeField.version, scope.version);
  writeAttributes(w, InstrumentationScopeField.attributes, scope.attributes);
  writeUint32Field(w, InstrumentationScopeField.dropped_attributes_count, scope.droppedAttributesCount);
  w.endMessage(at);
}
