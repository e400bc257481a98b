import fs from 'node:fs';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { OUTPUT, generateWireFields, wireMessages } from '../../scripts/gen-otlp-wire.ts';
import { fields } from './protowire.ts';
import * as wire from './wire-fields.gen.ts';
import {
  ArrayValueTag, ExportLogsPartialSuccessTag, ExportLogsServiceRequestTag, ExportLogsServiceResponseTag,
  ExportTracePartialSuccessTag, ExportTraceServiceRequestTag, ExportTraceServiceResponseTag, KeyValueListTag,
  ResourceLogsTag, ResourceSpansTag, ScopeLogsTag, ScopeSpansTag, otlpKnown,
} from './wire-fields.gen.ts';

const exported = wire as unknown as Record<string, Record<string, number | string>>;
const known = otlpKnown as unknown as Record<string, number>;
/** An enum's members by name (a numeric enum also maps its values back to names). */
const members = (e: Record<string, number | string>): Record<string, number> =>
  Object.fromEntries(Object.entries(e).filter((kv): kv is [string, number] => typeof kv[1] === 'number'));

/** A value protobufjs writes (not a proto3 default) for a field of this type. */
function sample(field: protobuf.Field): unknown {
  const t = field.resolvedType;
  let v: unknown;
  if (t instanceof protobuf.Type) v = {};
  else if (t instanceof protobuf.Enum) v = 1;
  else if (field.type === 'string') v = 'x';
  else if (field.type === 'bytes') v = new Uint8Array([1]);
  else if (field.type === 'bool') v = true;
  else v = 1;
  return field.repeated ? [v] : v;
}

describe('wire-fields.gen.ts', () => {
  it('is what scripts/gen-otlp-wire.ts generates from the .proto files (npm run gen:wire)', () => {
    expect(fs.readFileSync(OUTPUT, 'utf8')).toBe(generateWireFields());
  });

  const messages = wireMessages();

  it('covers every message the walkers use', () => {
    const keys = messages.map((m) => m.key);
    for (const k of ['ExportLogsServiceRequest', 'ResourceLogs', 'ScopeLogs', 'LogRecord', 'ExportTraceServiceRequest',
      'ResourceSpans', 'ScopeSpans', 'Span', 'SpanEvent', 'SpanLink', 'Status', 'Resource', 'InstrumentationScope',
      'KeyValue', 'AnyValue', 'ArrayValue', 'KeyValueList', 'ExportLogsServiceResponse', 'ExportLogsPartialSuccess',
      'ExportTracePartialSuccess']) {
      expect(keys).toContain(k);
    }
    const enums = Object.keys(wire).filter((k) => k !== 'otlpKnown').sort();
    expect(enums).toEqual(keys.flatMap((k) => [`${k}Field`, `${k}Tag`]).sort());
    expect(Object.keys(known).sort()).toEqual([...keys].sort());
  });

  for (const m of messages) {
    it(`${m.key}: every tag is the one protobufjs writes for that field alone`, () => {
      const tags = members(exported[`${m.key}Tag`]!);
      const numbers = members(exported[`${m.key}Field`]!);
      expect(Object.keys(tags).length).toBe(m.type.fieldsArray.length);
      expect(Object.keys(numbers).length).toBe(m.type.fieldsArray.length);
      for (const f of m.type.fieldsArray) {
        const bytes = m.type.encode(m.type.fromObject({ [f.name]: sample(f) })).finish();
        const first = protobuf.Reader.create(bytes).uint32();
        expect({ field: f.name, tag: tags[f.name] }).toEqual({ field: f.name, tag: first });
        expect(numbers[f.name]).toBe(f.id);
      }
      expect(known[m.key]).toBe(fields(...m.type.fieldsArray.map((f) => f.id)));
    });
  }

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
