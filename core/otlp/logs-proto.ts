/**
 * opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest (the same
 * bytes as logs.v1.LogsData) on the protobuf wire: ResourceLogs, ScopeLogs,
 * LogRecord. Field numbers and tags: wire-fields.gen.ts, generated from proto/.
 */
import { blankLogRecord, emptyResource, emptyScope } from '../model.ts';
import type { LogRecord, LogsData, ResourceLogs, ScopeLogs } from '../model.ts';
import {
  readAnyValue, readKeyValue, readResource, readScope,
  writeAnyValue, writeAttributes, writeEnumField, writeResource, writeScope, writeStringField, writeUint32Field,
} from './common-proto.ts';
import { Reader, sharedWriter } from './protowire.ts';
import type { Writer } from './protowire.ts';
import {
  ExportLogsServiceRequestField, ExportLogsServiceRequestTag, LogRecordField, LogRecordTag, ResourceLogsField,
  ResourceLogsTag, ScopeLogsField, ScopeLogsTag, otlpKnown,
} from './wire-fields.gen.ts';

/** Decodes ExportLogsServiceRequest / LogsData bytes; throws OtlpDecodeError. */
export function decodeLogsProto(data: Uint8Array): LogsData {
  const r = new Reader(data);
  const end = r.len;
  const resourceLogs: ResourceLogs[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === ExportLogsServiceRequestTag.resource_logs) resourceLogs.push(readResourceLogs(r, end));
    else r.other(tag, otlpKnown.ExportLogsServiceRequest, end, 'ExportLogsServiceRequest');
  }
  return { resourceLogs };
}

function readResourceLogs(r: Reader, limit: number): ResourceLogs {
  const end = r.lenEnd(limit);
  const out: ResourceLogs = { resource: emptyResource(), scopeLogs: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case ResourceLogsTag.resource: readResource(r, end, out.resource); break;
      case ResourceLogsTag.scope_logs: out.scopeLogs.push(readScopeLogs(r, end)); break;
      case ResourceLogsTag.schema_url: out.schemaUrl = r.string(end); break;
      default: r.other(tag, otlpKnown.ResourceLogs, end, 'ResourceLogs');
    }
  }
  r.expectEnd(end, 'ResourceLogs');
  return out;
}

function readScopeLogs(r: Reader, limit: number): ScopeLogs {
  const end = r.lenEnd(limit);
  const out: ScopeLogs = { scope: emptyScope(), logRecords: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case ScopeLogsTag.scope: readScope(r, end, out.scope); break;
      case ScopeLogsTag.log_records: out.logRecords.push(readLogRecord(r, end)); break;
      case ScopeLogsTag.schema_url: out.schemaUrl = r.string(end); break;
      default: r.other(tag, otlpKnown.ScopeLogs, end, 'ScopeLogs');
    }
  }
  r.expectEnd(end, 'ScopeLogs');
  return out;
}

function readLogRecord(r: Reader, limit: number): LogRecord {
  const end = r.lenEnd(limit);
  const rec = blankLogRecord();
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case LogRecordTag.time_unix_nano: rec.timeUnixNano = r.fixed64(); break;
      case LogRecordTag.severity_number: rec.severityNumber = r.uint32() | 0; break;
      case LogRecordTag.severity_text: rec.severityText = r.string(end); break;
      case LogRecordTag.body: rec.body = readAnyValue(r, end, 0); break;
      case LogRecordTag.attributes: rec.attributes.push(readKeyValue(r, end)); break;
      case LogRecordTag.dropped_attributes_count: rec.droppedAttributesCount = r.uint32(); break;
      case LogRecordTag.flags: rec.flags = r.fixed32(); break;
      case LogRecordTag.trace_id: rec.traceId = r.id(end, 16, 'LogRecord.trace_id'); break;
      case LogRecordTag.span_id: rec.spanId = r.id(end, 8, 'LogRecord.span_id'); break;
      case LogRecordTag.observed_time_unix_nano: rec.observedTimeUnixNano = r.fixed64(); break;
      case LogRecordTag.event_name: rec.eventName = r.string(end); break;
      default: r.other(tag, otlpKnown.LogRecord, end, 'LogRecord');
    }
  }
  r.expectEnd(end, 'LogRecord');
  return rec;
}

// ---------------------------------------------------------------- encode

/** Encodes LogsData as ExportLogsServiceRequest bytes (proto3: defaults omitted). */
export function encodeLogsProto(data: LogsData): Uint8Array {
  const w = sharedWriter();
  for (const rl of data.resourceLogs) {
    const at = w.startMessage(ExportLogsServiceRequestField.resource_logs);
    writeResource(w, ResourceLogsField.resource, rl.resource);
    for (const sl of rl.scopeLogs) {
      const sat = w.startMessage(ResourceLogsField.scope_logs);
      writeScope(w, ScopeLogsField.scope, sl.scope);
      for (const rec of sl.logRecords) writeLogRecord(w, rec);
      writeStringField(w, ScopeLogsField.schema_url, sl.schemaUrl);
      w.endMessage(sat);
    }
    writeStringField(w, ResourceLogsField.schema_url, rl.schemaUrl);
    w.endMessage(at);
  }
  return w.finish();
}

/**
 * One LogRecord's fields, unframed (what follows its log_records tag and
 * length in a request): for a producer that writes the rest of the request
 * itself (receivers/filelog/encode.ts).
 */
export function encodeLogRecordProto(rec: LogRecord): Uint8Array {
  const w = sharedWriter();
  writeLogRecordFields(w, rec);
  return w.finish();
}

function writeLogRecord(w: Writer, rec: LogRecord): void {
  const at = w.startMessage(ScopeLogsField.log_records);
  writeLogRecordFields(w, rec);
  w.endMessage(at);
}

function writeLogRecordFields(w: Writer, rec: LogRecord): void {
  if (rec.timeUnixNano !== 0n) {
    w.uint32(LogRecordTag.time_unix_nano);
    w.fixed64(rec.timeUnixNano);
  }
  writeEnumField(w, LogRecordField.severity_number, rec.severityNumber);
  writeStringField(w, LogRecordField.severity_text, rec.severityText);
  if (rec.body !== undefined) writeAnyValue(w, LogRecordField.body, rec.body);
  writeAttributes(w, LogRecordField.attributes, rec.attributes);
  writeUint32Field(w, LogRecordField.dropped_attributes_count, rec.droppedAttributesCount);
  if (rec.flags !== 0) {
    w.uint32(LogRecordTag.flags);
    w.fixed32(rec.flags);
  }
  if (rec.traceId !== '') w.hexBytes(LogRecordField.trace_id, rec.traceId);
  if (rec.spanId !== '') w.hexBytes(LogRecordField.span_id, rec.spanId);
  if (rec.observedTimeUnixNano !== 0n) {
    w.uint32(LogRecordTag.observed_time_unix_nano);
    w.fixed64(rec.observedTimeUnixNano);
  }
  writeStringField(w, LogRecordField.event_name, rec.eventName);
}
