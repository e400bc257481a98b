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
import { otlpField, otlpKnown, otlpTag } from './wire-fields.gen.ts';

// Module-level aliases, so optimized code has the tags as constants (wire-fields.gen.ts).
const T = otlpTag;
const F = otlpField;
const K = otlpKnown;

/** Decodes ExportLogsServiceRequest / LogsData bytes; throws OtlpDecodeError. */
export function decodeLogsProto(data: Uint8Array): LogsData {
  const r = new Reader(data);
  const end = r.len;
  const resourceLogs: ResourceLogs[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === T.ExportLogsServiceRequest.resource_logs) resourceLogs.push(readResourceLogs(r, end));
    else r.other(tag, K.ExportLogsServiceRequest, end, 'ExportLogsServiceRequest');
  }
  return { resourceLogs };
}

function readResourceLogs(r: Reader, limit: number): ResourceLogs {
  const end = r.lenEnd(limit);
  const out: ResourceLogs = { resource: emptyResource(), scopeLogs: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case T.ResourceLogs.resource: readResource(r, end, out.resource); break;
      case T.ResourceLogs.scope_logs: out.scopeLogs.push(readScopeLogs(r, end)); break;
      case T.ResourceLogs.schema_url: out.schemaUrl = r.string(end); break;
      default: r.other(tag, K.ResourceLogs, end, 'ResourceLogs');
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
      case T.ScopeLogs.scope: readScope(r, end, out.scope); break;
      case T.ScopeLogs.log_records: out.logRecords.push(readLogRecord(r, end)); break;
      case T.ScopeLogs.schema_url: out.schemaUrl = r.string(end); break;
      default: r.other(tag, K.ScopeLogs, end, 'ScopeLogs');
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
      case T.LogRecord.time_unix_nano: rec.timeUnixNano = r.fixed64(); break;
      case T.LogRecord.severity_number: rec.severityNumber = r.uint32() | 0; break;
      case T.LogRecord.severity_text: rec.severityText = r.string(end); break;
      case T.LogRecord.body: rec.body = readAnyValue(r, end, 0); break;
      case T.LogRecord.attributes: rec.attributes.push(readKeyValue(r, end)); break;
      case T.LogRecord.dropped_attributes_count: rec.droppedAttributesCount = r.uint32(); break;
      case T.LogRecord.flags: rec.flags = r.fixed32(); break;
      case T.LogRecord.trace_id: rec.traceId = r.id(end, 16, 'LogRecord.trace_id'); break;
      case T.LogRecord.span_id: rec.spanId = r.id(end, 8, 'LogRecord.span_id'); break;
      case T.LogRecord.observed_time_unix_nano: rec.observedTimeUnixNano = r.fixed64(); break;
      case T.LogRecord.event_name: rec.eventName = r.string(end); break;
      default: r.other(tag, K.LogRecord, end, 'LogRecord');
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
    const at = w.startMessage(F.ExportLogsServiceRequest.resource_logs);
    writeResource(w, F.ResourceLogs.resource, rl.resource);
    for (const sl of rl.scopeLogs) {
      const sat = w.startMessage(F.ResourceLogs.scope_logs);
      writeScope(w, F.ScopeLogs.scope, sl.scope);
      for (const rec of sl.logRecords) writeLogRecord(w, rec);
      writeStringField(w, F.ScopeLogs.schema_url, sl.schemaUrl);
      w.endMessage(sat);
    }
    writeStringField(w, F.ResourceLogs.schema_url, rl.schemaUrl);
    w.endMessage(at);
  }
  return w.finish();
}

function writeLogRecord(w: Writer, rec: LogRecord): void {
  const at = w.startMessage(F.ScopeLogs.log_records);
  if (rec.timeUnixNano !== 0n) {
    w.uint32(T.LogRecord.time_unix_nano);
    w.fixed64(rec.timeUnixNano);
  }
  writeEnumField(w, F.LogRecord.severity_number, rec.severityNumber);
  writeStringField(w, F.LogRecord.severity_text, rec.severityText);
  if (rec.body !== undefined) writeAnyValue(w, F.LogRecord.body, rec.body);
  writeAttributes(w, F.LogRecord.attributes, rec.attributes);
  writeUint32Field(w, F.LogRecord.dropped_attributes_count, rec.droppedAttributesCount);
  if (rec.flags !== 0) {
    w.uint32(T.LogRecord.flags);
    w.fixed32(rec.flags);
  }
  if (rec.traceId !== '') w.hexBytes(F.LogRecord.trace_id, rec.traceId);
  if (rec.spanId !== '') w.hexBytes(F.LogRecord.span_id, rec.spanId);
  if (rec.observedTimeUnixNano !== 0n) {
    w.uint32(T.LogRecord.observed_time_unix_nano);
    w.fixed64(rec.observedTimeUnixNano);
  }
  writeStringField(w, F.LogRecord.event_name, rec.eventName);
  w.endMessage(at);
}
