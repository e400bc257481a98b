import fs from 'node:fs';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { OUTPUT, generateWireFields, wireMessages } from '../../scripts/gen-otlp-wire.ts';
import { fields } from './protowire.ts';
import { otlpField, otlpKnown, otlpTag } from './wire-fields.gen.ts';

type Table = Record<string, Record<string, number>>;
const tags = otlpTag as unknown as Table;
const numbers = otlpField as unknown as Table;
const known = otlpKnown as unknown as Record<string, number>;

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
    expect(Object.keys(tags).sort()).toEqual([...keys].sort());
  });

  for (const m of messages) {
    it(`${m.key}: every tag is the one protobufjs writes for that field alone`, () => {
      expect(m.fields.length).toBe(m.type.fieldsArray.length);
      for (const f of m.type.fieldsArray) {
        const bytes = m.type.encode(m.type.fromObject({ [f.name]: sample(f) })).finish();
        const first = protobuf.Reader.create(bytes).uint32();
        expect({ field: f.name, tag: tags[m.key]![f.name] }).toEqual({ field: f.name, tag: first });
        expect(numbers[m.key]![f.name]).toBe(f.id);
      }
      expect(known[m.key]).toBe(fields(...m.type.fieldsArray.map((f) => f.id)));
    });
  }

  it('logs and traces containers share their tags (walkers that serve both signals rely on it)', () => {
    expect(otlpTag.ExportTraceServiceRequest.resource_spans).toBe(otlpTag.ExportLogsServiceRequest.resource_logs);
    expect([otlpTag.ResourceSpans.resource, otlpTag.ResourceSpans.scope_spans, otlpTag.ResourceSpans.schema_url])
      .toEqual([otlpTag.ResourceLogs.resource, otlpTag.ResourceLogs.scope_logs, otlpTag.ResourceLogs.schema_url]);
    expect([otlpTag.ScopeSpans.scope, otlpTag.ScopeSpans.spans, otlpTag.ScopeSpans.schema_url])
      .toEqual([otlpTag.ScopeLogs.scope, otlpTag.ScopeLogs.log_records, otlpTag.ScopeLogs.schema_url]);
    expect(otlpTag.ExportTraceServiceResponse.partial_success).toBe(otlpTag.ExportLogsServiceResponse.partial_success);
    expect(otlpTag.ExportTracePartialSuccess).toEqual({ rejected_spans: 0x08, error_message: 0x12 });
    expect(otlpTag.ExportLogsPartialSuccess).toEqual({ rejected_log_records: 0x08, error_message: 0x12 });
    expect(otlpKnown.ResourceSpans).toBe(otlpKnown.ResourceLogs);
    expect(otlpKnown.ScopeSpans).toBe(otlpKnown.ScopeLogs);
    // lib/clickhouse/native-proto.ts reads a resource and a scope container with one walk.
    expect([otlpTag.ResourceLogs.resource, otlpTag.ResourceLogs.scope_logs, otlpTag.ResourceLogs.schema_url])
      .toEqual([otlpTag.ScopeLogs.scope, otlpTag.ScopeLogs.log_records, otlpTag.ScopeLogs.schema_url]);
    expect(otlpKnown.ScopeLogs).toBe(otlpKnown.ResourceLogs);
    // ArrayValue and KeyValueList: one walk (scan.ts list()).
    expect(otlpTag.KeyValueList.values).toBe(otlpTag.ArrayValue.values);
    expect(otlpKnown.KeyValueList).toBe(otlpKnown.ArrayValue);
  });
});
