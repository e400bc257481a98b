/**
 * ExportLogsServiceRequest / LogsData in OTLP/JSON: lowerCamelCase keys (snake_case
 * accepted), ids as hex, timestamps as decimal strings, severityNumber as an integer
 * (names accepted when parsing), unknown keys ignored.
 */
import type { LogRecord, LogsData, ResourceLogs, ScopeLogs } from '../model.ts';
import {
  anyValueFromJson, anyValueToJson, attributesFromJson, attributesToJson, put,
  resourceFromJson, resourceToJson, scopeFromJson, scopeToJson,
} from './common-json.ts';
import { elemObj, enumField, get, hexId, mapArr, parseJsonRoot, str, subObj, u32, u64, withSegment } from './json-util.ts';
import type { Obj } from './json-util.ts';

const SEVERITY_NAMES = new Map<string, number>([['SEVERITY_NUMBER_UNSPECIFIED', 0]]);
['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'FATAL'].forEach((level, i) => {
  SEVERITY_NAMES.set(`SEVERITY_NUMBER_${level}`, i * 4 + 1);
  for (let k = 2; k <= 4; k++) SEVERITY_NAMES.set(`SEVERITY_NUMBER_${level}${k}`, i * 4 + k);
});

/** Decodes an OTLP/JSON logs request body; throws OtlpDecodeError with the failing path. */
export function decodeLogsJson(input: string | Uint8Array): LogsData {
  return parseJsonRoot(input, 'logs request', (root) => ({
    resourceLogs: mapArr(root, 'resourceLogs', 'resource_logs', resourceLogsFromJson),
  }));
}

function resourceLogsFromJson(v: unknown): ResourceLogs {
  const o = elemObj(v);
  return {
    resource: subObj(o, 'resource', 'resource', resourceFromJson),
    scopeLogs: mapArr(o, 'scopeLogs', 'scope_logs', scopeLogsFromJson),
    schemaUrl: str(o, 'schemaUrl', 'schema_url'),
  };
}

function scopeLogsFromJson(v: unknown): ScopeLogs {
  const o = elemObj(v);
  return {
    scope: subObj(o, 'scope', 'scope', scopeFromJson),
    logRecords: mapArr(o, 'logRecords', 'log_records', logRecordFromJson),
    schemaUrl: str(o, 'schemaUrl', 'schema_url'),
  };
}

function logRecordFromJson(v: unknown): LogRecord {
  const o = elemObj(v);
  let body;
  try {
    body = anyValueFromJson(get(o, 'body', 'body'));
  } catch (e) {
    throw withSegment(e, 'body');
  }
  return {
    timeUnixNano: u64(o, 'timeUnixNano', 'time_unix_nano'),
    observedTimeUnixNano: u64(o, 'observedTimeUnixNano', 'observed_time_unix_nano'),
    severityNumber: enumField(o, 'severityNumber', 'severity_number', SEVERITY_NAMES),
    severityText: str(o, 'severityText', 'severity_text'),
    body,
    attributes: attributesFromJson(o),
    droppedAttributesCount: u32(o, 'droppedAttributesCount', 'dropped_attributes_count'),
    flags: u32(o, 'flags', 'flags'),
    traceId: hexId(o, 'traceId', 'trace_id', 16),
    spanId: hexId(o, 'spanId', 'span_id', 8),
    eventName: str(o, 'eventName', 'event_name'),
  };
}

// ---------------------------------------------------------------- encode

/** Encodes LogsData as an OTLP/JSON request body (defaults omitted). */
export function encodeLogsJson(data: LogsData): string {
  return JSON.stringify({
    resourceLogs: data.resourceLogs.map((rl) => {
      const o: Obj = { resource: resourceToJson(rl.resource) };
      put(o, 'scopeLogs', rl.scopeLogs.map((sl) => {
        const so: Obj = { scope: scopeToJson(sl.scope) };
        put(so, 'logRecords', sl.logRecords.map(logRecordToJson));
        put(so, 'schemaUrl', sl.schemaUrl);
        return so;
      }));
      put(o, 'schemaUrl', rl.schemaUrl);
      return o;
    }),
  });
}

function logRecordToJson(r: LogRecord): Obj {
  const o: Obj = {};
  put(o, 'timeUnixNano', r.timeUnixNano);
  put(o, 'observedTimeUnixNano', r.observedTimeUnixNano);
  put(o, 'severityNumber', r.severityNumber);
  put(o, 'severityText', r.severityText);
  if (r.body !== undefined) o.body = anyValueToJson(r.body);
  put(o, 'attributes', attributesToJson(r.attributes));
  put(o, 'droppedAttributesCount', r.droppedAttributesCount);
  put(o, 'flags', r.flags);
  put(o, 'traceId', r.traceId);
  put(o, 'spanId', r.spanId);
  put(o, 'eventName', r.eventName);
  return o;
}
