/**
 * opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest (the same
 * bytes as logs.v1.LogsData) on the protobuf wire.
 *
 *   ExportLogsServiceRequest: 1 resource_logs
 *   ResourceLogs: 1 resource, 2 scope_logs, 3 schema_url
 *   ScopeLogs:    1 scope, 2 log_records, 3 schema_url
 *   LogRecord:    1 time_unix_nano (fixed64), 11 observed_time_unix_nano (fixed64),
 *                 2 severity_number, 3 severity_text, 5 body, 6 attributes,
 *                 7 dropped_attributes_count, 8 flags (fixed32), 9 trace_id,
 *                 10 span_id, 12 event_name   (4 is reserved)
 */
import { blankLogRecord, emptyResource, emptyScope } from '../model.ts';
import type { LogRecord, LogsData, ResourceLogs, ScopeLogs } from '../model.ts';
import {
  readAnyValue, readKeyValue, readResource, readScope,
  writeAnyValue, writeAttributes, writeEnumField, writeResource, writeScope, writeStringField, writeUint32Field,
} from './common-proto.ts';
import { Reader, fields, sharedWriter } from './protowire.ts';
import type { Writer } from './protowire.ts';

const REQUEST_FIELDS = fields(1);
const RESOURCE_LOGS_FIELDS = fields(1, 2, 3);
const SCOPE_LOGS_FIELDS = fields(1, 2, 3);
const LOG_RECORD_FIELDS = fields(1, 2, 3, 5, 6, 7, 8, 9, 10, 11, 12);

/** Decodes ExportLogsServiceRequest / LogsData bytes; throws OtlpDecodeError. */
export function decodeLogsProto(data: Uint8Array): LogsData {
  const r = new Reader(data);
  const end = r.len;
  const resourceLogs: ResourceLogs[] = [];
  while (r.pos < end) {
    const tag = r.uint32();
    if (tag === 0x0a) resourceLogs.push(readResourceLogs(r, end));
    else r.other(tag, REQUEST_FIELDS, end, 'ExportLogsServiceRequest');
  }
  return { resourceLogs };
}

function readResourceLogs(r: Reader, limit: number): ResourceLogs {
  const end = r.lenEnd(limit);
  const out: ResourceLogs = { resource: emptyResource(), scopeLogs: [], schemaUrl: '' };
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case 0x0a: readResource(r, end, out.resource); break;
      case 0x12: out.scopeLogs.push(readScopeLogs(r, end)); break;
      case 0x1a: out.schemaUrl = r.string(end); break;
      default: r.other(tag, RESOURCE_LOGS_FIELDS, end, 'ResourceLogs');
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
      case 0x0a: readScope(r, end, out.scope); break;
      case 0x12: out.logRecords.push(readLogRecord(r, end)); break;
      case 0x1a: out.schemaUrl = r.string(end); break;
      default: r.other(tag, SCOPE_LOGS_FIELDS, end, 'ScopeLogs');
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
      case 0x09: rec.timeUnixNano = r.fixed64(); break;
      case 0x10: rec.severityNumber = r.uint32() | 0; break;
      case 0x1a: rec.severityText = r.string(end); break;
      case 0x2a: rec.body = readAnyValue(r, end, 0); break;
      case 0x32: rec.attributes.push(readKeyValue(r, end)); break;
      case 0x38: rec.droppedAttributesCount = r.uint32(); break;
      case 0x45: rec.flags = r.fixed32(); break;
      case 0x4a: rec.traceId = r.id(end, 16, 'LogRecord.trace_id'); break;
      case 0x52: rec.spanId = r.id(end, 8, 'LogRecord.span_id'); break;
      case 0x59: rec.observedTimeUnixNano = r.fixed64(); break;
      case 0x62: rec.eventName = r.string(end); break;
      default: r.other(tag, LOG_RECORD_FIELDS, end, 'LogRecord');
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
    const at = w.startMessage(1);
    writeResource(w, 1, rl.resource);
    for (const sl of rl.scopeLogs) {
      const sat = w.startMessage(2);
      writeScope(w, 1, sl.scope);
      for (const rec of sl.logRecords) writeLogRecord(w, rec);
      writeStringField(w, 3, sl.schemaUrl);
      w.endMessage(sat);
    }
    writeStringField(w, 3, rl.schemaUrl);
    w.endMessage(at);
  }
  return w.finish();
}

function writeLogRecord(w: Writer, rec: LogRecord): void {
  const at = w.startMessage(2);
  if (rec.timeUnixNano !== 0n) {
    w.tag(1, 1);
    w.fixed64(rec.timeUnixNano);
  }
  writeEnumField(w, 2, rec.severityNumber);
  writeStringField(w, 3, rec.severityText);
  if (rec.body !== undefined) writeAnyValue(w, 5, rec.body);
  writeAttributes(w, 6, rec.attributes);
  writeUint32Field(w, 7, rec.droppedAttributesCount);
  if (rec.flags !== 0) {
    w.tag(8, 5);
    w.fixed32(rec.flags);
  }
  if (rec.traceId !== '') w.hexBytes(9, rec.traceId);
  if (rec.spanId !== '') w.hexBytes(10, rec.spanId);
  if (rec.observedTimeUnixNano !== 0n) {
    w.tag(11, 1);
    w.fixed64(rec.observedTimeUnixNano);
  }
  writeStringField(w, 12, rec.eventName);
  w.endMessage(at);
}
