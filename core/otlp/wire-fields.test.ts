import fs from 'node:fs';
import path from 'node:path';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { TARGETS, generateWireFields, wireMessages, type WireMessage } from '../../scripts/gen-otlp-wire.ts';
import { fields } from './protowire.ts';
import {
  ArrayValueTag, ExportLogsPartialSuccessTag, ExportLogsServiceRequestTag, ExportLogsServiceResponseTag,
  ExportTracePartialSuccessTag, ExportTraceServiceRequestTag, ExportTraceServiceResponseTag, KeyValueListTag,
  ResourceLogsTag, ResourceSpansTag, ScopeLogsTag, ScopeSpansTag, otlpKnown,
} from './wire-fields.gen.ts';

const repo = path.resolve(import.meta.dirname, '../..');
type Exports = Record<string, Record<string, number | string>>;
/** An enum's members by name (a numeric enum also maps its values back to names). */
const members = (e: Record<string, number | string>): Record<string, number> =>
  Object.fromEntries(Object.entries(e).filter((kv): kv is [string, number] => typeof kv[1] === 'number'));

/** A value protobufjs writes (not a proto3 default) for a value of this type. */
function sampleOf(type: string, resolved: protobuf.ReflectionObject | null): unknown {
  if (resolved instanceof protobuf.Type) return {};
  if (resolved instanceof protobuf.Enum) return 1;
  if (type === 'string') return 'x';
  if (type === 'bytes') return new Uint8Array([1]);
  if (type === 'bool') return true;
  return 1;
}

function sample(field: protobuf.Field): unknown {
  const v = sampleOf(field.type, field.resolvedType);
  if (field instanceof protobuf.MapField) return { [field.keyType === 'string' ? 'k' : 1]: v };
  return field.repeated ? [v] : v;
}

/** The tags protobufjs writes: a message with only that field set, or for a map entry, one entry's key and value. */
function protobufjsTags(m: WireMessage): Record<string, number> {
  const out: Record<string, number> = {};
  if (m.map) {
    const key = m.map.keyType === 'string' ? 'k' : 1;
    const bytes = m.type.encode(m.type.fromObject({ [m.map.name]: { [key]: sampleOf(m.map.type, m.map.resolvedType) } })).finish();
    const r = protobuf.Reader.create(bytes);
    r.uint32(); // the map field's tag
    r.uint32(); // the entry's length
    out.key = r.uint32();
    r.skipType(out.key & 7);
    out.value = r.uint32();
    return out;
  }
  for (const f of m.type.fieldsArray) {
    const bytes = m.type.encode(m.type.fromObject({ [f.name]: sample(f) })).finish();
    out[f.name] = protobuf.Reader.create(bytes).uint32();
  }
  return out;
}

for (const target of TARGETS) {
  describe(target.output, async () => {
    const mod = (await import(path.join(repo, target.output))) as Exports;
    const known = mod[target.known] as unknown as Record<string, number>;
    const messages = wireMessages(target);

    it('is what scripts/gen-otlp-wire.ts generates from the .proto files (npm run gen:wire)', () => {
      expect(fs.readFileSync(path.join(repo, target.output), 'utf8')).toBe(generateWireFields(target));
    });

    it('exports a tag and a field enum per message, and its known mask', () => {
      const keys = messages.map((m) => m.key);
      const enums = Object.keys(mod).filter((k) => k !== target.known).sort();
      expect(enums).toEqual(keys.flatMap((k) => [`${k}Field`, `${k}Tag`]).sort());
      expect(Object.keys(known).sort()).toEqual([...keys].sort());
    });

    for (const m of messages) {
      it(`${m.key}: every tag is the one protobufjs writes`, () => {
        const tags = members(mod[`${m.key}Tag`]!);
        const numbers = members(mod[`${m.key}Field`]!);
        const expected = protobufjsTags(m);
        expect(Object.keys(expected).length).toBe(m.map ? 2 : m.type.fieldsArray.length);
        expect(tags).toEqual(expected);
        for (const [name, tag] of Object.entries(expected)) expect(numbers[name]).toBe(tag >>> 3);
        expect(known[m.key]).toBe(fields(...Object.values(numbers)));
      });
    }
  });
}

describe('jaeger: one walk reads Timestamp and Duration', () => {
  it('they have the same fields and tags', async () => {
    const j = await import('../../receivers/jaeger/wire-fields.gen.ts');
    expect([j.GoogleProtobufDurationTag.seconds, j.GoogleProtobufDurationTag.nanos])
      .toEqual([j.GoogleProtobufTimestampTag.seconds, j.GoogleProtobufTimestampTag.nanos]);
    expect(j.jaegerKnown.GoogleProtobufDuration).toBe(j.jaegerKnown.GoogleProtobufTimestamp);
  });
});

describe('OTLP walks shared between messages', () => {
  it('covers every message the walkers use', () => {
    const keys = wireMessages(TARGETS[0]!).map((m) => m.key);
    for (const k of ['ExportLogsServiceRequest', 'ResourceLogs', 'ScopeLogs', 'LogRecord', 'ExportTraceServiceRequest',
      'ResourceSpans', 'ScopeSpans', 'Span', 'SpanEvent', 'SpanLink', 'Status', 'Resource', 'InstrumentationScope',
      'KeyValue', 'AnyValue', 'ArrayValue', 'KeyValueList', 'ExportLogsServiceResponse', 'ExportLogsPartialSuccess',
      'ExportTracePartialSuccess', 'GoogleRpcStatus']) {
      expect(keys).toContain(k);
    }
  });

  it('logs and traces containers share their tags (walkers that serve both signals rely on it)', () => {
    expect(ExportTraceServiceRequestTag.resource_spans).toBe(ExportLogsServiceRequestTag.resource_logs);
    expect([ResourceSpansTag.resource, ResourceSpansTag.scope_spans, ResourceSpansTag.schema_url])
      .toEqual([ResourceLogsTag.resource, ResourceLogsTag.scope_logs, ResourceLogsTag.schema_url]);
    expect([ScopeSpansTag.scope, ScopeSpansTag.spans, ScopeSpansTag.schema_url])
      .toEqual([ScopeLogsTag.scope, ScopeLogsTag.log_records, ScopeLogsTag.schema_url]);
    expect(ExportTraceServiceResponseTag.partial_success).toBe(ExportLogsServiceResponseTag.partial_success);
    expect([ExportTracePartialSuccessTag.rejected_spans, ExportTracePartialSuccessTag.error_message])
      .toEqual([ExportLogsPartialSuccessTag.rejected_log_records, ExportLogsPartialSuccessTag.error_message]);
    expect(otlpKnown.ResourceSpans).toBe(otlpKnown.ResourceLogs);
    expect(otlpKnown.ScopeSpans).toBe(otlpKnown.ScopeLogs);
    // lib/clickhouse/native-proto.ts reads a resource and a scope container with one walk.
    expect([ResourceLogsTag.resource, ResourceLogsTag.scope_logs, ResourceLogsTag.schema_url])
      .toEqual([ScopeLogsTag.scope, ScopeLogsTag.log_records, ScopeLogsTag.schema_url]);
    expect(otlpKnown.ScopeLogs).toBe(otlpKnown.ResourceLogs);
    // ArrayValue and KeyValueList: one walk (scan.ts list()).
    expect(KeyValueListTag.values).toBe(ArrayValueTag.values);
    expect(otlpKnown.KeyValueList).toBe(otlpKnown.ArrayValue);
  });
});
