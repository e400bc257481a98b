/**
 * OTLP/JSON: random round trips, the receiver leniencies the spec asks for
 * (snake_case keys, enum names, 64-bit ints as numbers or strings, unknown keys),
 * the encoding rules (hex ids, int64 as strings, enums as integers, base64 bytes),
 * clear errors with the failing path; and the export responses in both encodings.
 */
import { describe, expect, it } from 'vitest';
import { KvList } from '../model.ts';
import {
  OtlpDecodeError, decodeExportResponse, decodeExportResponseJson, decodeLogsJson, decodeTracesJson,
  encodeExportResponse, encodeExportResponseJson, encodeLogsJson, encodeTracesJson,
} from './index.ts';
import { meshAccessLogs, randomLogs, randomTraces } from './fixtures.ts';
import { loadReference } from './proto/reference.ts';

function decodeError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OtlpDecodeError);
    return (e as Error).message;
  }
  throw new Error('expected an OtlpDecodeError, nothing was thrown');
}

const TRACE_ID = '5b8efff798038103d269b633813fc60c';

describe('OTLP/JSON round trip', () => {
  it('random models survive encode -> decode', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const logs = randomLogs(seed);
      expect(decodeLogsJson(encodeLogsJson(logs)), `seed ${seed}`).toEqual(logs);
      const traces = randomTraces(seed);
      expect(decodeTracesJson(encodeTracesJson(traces)), `seed ${seed}`).toEqual(traces);
    }
  });

  it('accepts a Uint8Array body', () => {
    const logs = meshAccessLogs(4);
    expect(decodeLogsJson(Buffer.from(encodeLogsJson(logs)))).toEqual(logs);
  });
});

describe('OTLP/JSON encoding', () => {
  it('uses hex ids, string int64s and timestamps, integer enums, base64 bytes, omits defaults', () => {
    const json = JSON.parse(encodeTracesJson({
      resourceSpans: [{
        resource: { attributes: [{ key: 'n', value: 5n }, { key: 'b', value: new Uint8Array([1, 2, 255]) }], droppedAttributesCount: 0 },
        schemaUrl: '',
        scopeSpans: [{
          scope: { name: 's', version: '', attributes: [], droppedAttributesCount: 0 },
          schemaUrl: '',
          spans: [{
            traceId: TRACE_ID, spanId: '0102030405060708', traceState: '', parentSpanId: '', flags: 0x101, name: 'x', kind: 2,
            startTimeUnixNano: 1_700_000_000_000_000_001n, endTimeUnixNano: 0n,
            attributes: [{ key: 'd', value: 1.5 }, { key: 'nan', value: NaN }, { key: 'm', value: new KvList([{ key: 'a', value: [true] }]) }],
            droppedAttributesCount: 0, events: [], droppedEventsCount: 0, links: [], droppedLinksCount: 0,
            status: { code: 2, message: '' },
          }],
        }],
      }],
    }));
    expect(json).toEqual({
      resourceSpans: [{
        resource: { attributes: [{ key: 'n', value: { intValue: '5' } }, { key: 'b', value: { bytesValue: 'AQL/' } }] },
        scopeSpans: [{
          scope: { name: 's' },
          spans: [{
            traceId: TRACE_ID, spanId: '0102030405060708', flags: 257, name: 'x', kind: 2,
            startTimeUnixNano: '1700000000000000001',
            attributes: [
              { key: 'd', value: { doubleValue: 1.5 } },
              { key: 'nan', value: { doubleValue: 'NaN' } },
              { key: 'm', value: { kvlistValue: { values: [{ key: 'a', value: { arrayValue: { values: [{ boolValue: true }] } } }] } } },
            ],
            status: { code: 2 },
          }],
        }],
      }],
    });
  });
});

describe('OTLP/JSON decoding leniencies', () => {
  it('accepts snake_case keys, enum names, numeric int64s, upper-case hex, nulls and unknown keys', () => {
    const body = {
      resource_spans: [{
        resource: { attributes: [{ key: 'svc', value: { string_value: 'a' } }], dropped_attributes_count: 1, entityRefs: [] },
        scope_spans: [{
          scope: { name: 'sc', version: null },
          spans: [{
            trace_id: TRACE_ID.toUpperCase(), span_id: 'EEE19B7EC3C1B173', parent_span_id: '',
            name: 'n', kind: 'SPAN_KIND_CLIENT', start_time_unix_nano: 1700000000000000000, end_time_unix_nano: '1700000000000000005',
            attributes: [
              { key: 'i', value: { int_value: 42 } },
              { key: 'i2', value: { intValue: '-9223372036854775808' } },
              { key: 'd', value: { double_value: 'Infinity' } },
              { key: 'kv', value: { kvlist_value: { values: [{ key: 'x', value: { bool_value: false } }] } } },
              { key: 'arr', value: { array_value: { values: [{ bytes_value: 'AQID' }, {}] } } },
              { key: 'nothing' },
            ],
            events: [{ time_unix_nano: '7', name: 'e', dropped_attributes_count: 2 }],
            links: [{ trace_id: TRACE_ID, span_id: 'eee19b7ec3c1b173', trace_state: 'a=b', flags: 256 }],
            dropped_links_count: 3,
            status: { code: 'STATUS_CODE_ERROR', message: 'boom' },
            somethingFromTheFuture: { nested: true },
          }],
        }],
      }],
    };
    const data = decodeTracesJson(JSON.stringify(body));
    const span = data.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(data.resourceSpans[0]!.resource).toEqual({ attributes: [{ key: 'svc', value: 'a' }], droppedAttributesCount: 1 });
    expect(span).toMatchObject({
      traceId: TRACE_ID, spanId: 'eee19b7ec3c1b173', parentSpanId: '', kind: 3,
      startTimeUnixNano: 1700000000000000000n, endTimeUnixNano: 1700000000000000005n,
      attributes: [
        { key: 'i', value: 42n }, { key: 'i2', value: -(2n ** 63n) }, { key: 'd', value: Infinity },
        { key: 'kv', value: new KvList([{ key: 'x', value: false }]) },
        { key: 'arr', value: [new Uint8Array([1, 2, 3]), undefined] },
        { key: 'nothing', value: undefined },
      ],
      events: [{ timeUnixNano: 7n, name: 'e', attributes: [], droppedAttributesCount: 2 }],
      links: [{ traceId: TRACE_ID, spanId: 'eee19b7ec3c1b173', traceState: 'a=b', attributes: [], droppedAttributesCount: 0, flags: 256 }],
      droppedLinksCount: 3,
      status: { code: 2, message: 'boom' },
    });
  });

  it('accepts severity names and an all-zero id as absent', () => {
    const data = decodeLogsJson(JSON.stringify({
      resourceLogs: [{ scopeLogs: [{ logRecords: [{ severityNumber: 'SEVERITY_NUMBER_WARN3', traceId: '0'.repeat(32), body: { stringValue: 'b' } }] }] }],
    }));
    expect(data.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]).toMatchObject({ severityNumber: 15, traceId: '', body: 'b' });
    expect(data.resourceLogs[0]!.resource).toEqual({ attributes: [], droppedAttributesCount: 0 });
  });

  it('decodes an empty object as an empty request', () => {
    expect(decodeLogsJson('{}')).toEqual({ resourceLogs: [] });
    expect(decodeTracesJson('{}')).toEqual({ resourceSpans: [] });
  });
});

describe('OTLP/JSON decoding errors', () => {
  it('malformed JSON and a non-object root', () => {
    expect(decodeError(() => decodeLogsJson('{"resourceLogs": ['))).toMatch(/invalid OTLP\/JSON logs request/);
    expect(decodeError(() => decodeLogsJson('[1,2]'))).toMatch(/expected a JSON object, got an array/);
    expect(decodeError(() => decodeTracesJson(''))).toMatch(/invalid OTLP\/JSON traces request/);
  });

  it('wrong types name the failing path', () => {
    const logs = (rec: unknown) => JSON.stringify({ resourceLogs: [{ scopeLogs: [{ logRecords: [{}, rec] }] }] });
    expect(decodeError(() => decodeLogsJson(logs({ timeUnixNano: 'soon' }))))
      .toMatch(/at resourceLogs\[0\]\.scopeLogs\[0\]\.logRecords\[1\]\.timeUnixNano: expected an integer/);
    expect(decodeError(() => decodeLogsJson(logs({ traceId: 'AAECAwQFBgcICQoLDA0ODw==' }))))
      .toMatch(/logRecords\[1\]\.traceId: expected 32 hex characters/);
    expect(decodeError(() => decodeLogsJson(logs({ severityNumber: 'LOUD' })))).toMatch(/severityNumber: expected an enum/);
    expect(decodeError(() => decodeLogsJson(logs({ attributes: [{ key: 'k', value: { intValue: 1.5 } }] }))))
      .toMatch(/logRecords\[1\]\.attributes\[0\]\.value\.intValue/);
    expect(decodeError(() => decodeLogsJson(logs({ body: { boolValue: 'yes' } })))).toMatch(/body\.boolValue: expected a boolean/);
    expect(decodeError(() => decodeLogsJson(logs({ flags: -1 })))).toMatch(/flags: expected a uint32/);
    expect(decodeError(() => decodeLogsJson(logs({ attributes: { k: 'v' } })))).toMatch(/attributes: expected an array/);
    expect(decodeError(() => decodeLogsJson(logs({ attributes: [{ key: 'b', value: { bytesValue: '%%%' } }] })))).toMatch(/expected base64/);
    expect(decodeError(() => decodeLogsJson(JSON.stringify({ resourceLogs: [{ resource: 'x' }] })))).toMatch(/resourceLogs\[0\]\.resource: expected an object/);
    expect(decodeError(() => decodeTracesJson(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ endTimeUnixNano: '-1' }] }] }] }))))
      .toMatch(/spans\[0\]\.endTimeUnixNano: out of range/);
    expect(decodeError(() => decodeTracesJson(JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ status: { code: 'BAD' } }] }] }] }))))
      .toMatch(/spans\[0\]\.status\.code/);
  });

  it('hostile nesting is refused', () => {
    let value = '{"stringValue":"x"}';
    for (let i = 0; i < 200; i++) value = `{"arrayValue":{"values":[${value}]}}`;
    const body = `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":${value}}]}]}]}`;
    expect(decodeError(() => decodeLogsJson(body))).toMatch(/nested deeper/);
  });
});

describe('export responses', () => {
  const ref = loadReference();

  it('full success is empty in both encodings', () => {
    expect(encodeExportResponse('logs')).toHaveLength(0);
    expect(encodeExportResponseJson('traces')).toBe('{}');
    expect(decodeExportResponse('logs', new Uint8Array(0))).toEqual({ rejected: 0, errorMessage: '' });
    expect(decodeExportResponseJson('traces', '{}')).toEqual({ rejected: 0, errorMessage: '' });
  });

  it('partial success round-trips and matches protobufjs', () => {
    const result = { rejected: 17, errorMessage: 'too old: 17 records dropped' };
    const logsBytes = encodeExportResponse('logs', result);
    expect(ref.logsResponse.toObject(ref.logsResponse.decode(logsBytes), { longs: Number }))
      .toEqual({ partialSuccess: { rejectedLogRecords: 17, errorMessage: result.errorMessage } });
    expect(decodeExportResponse('logs', logsBytes)).toEqual(result);
    const tracesBytes = ref.tracesResponse.encode({ partialSuccess: { rejectedSpans: 3, errorMessage: 'x' } }).finish();
    expect(decodeExportResponse('traces', tracesBytes)).toEqual({ rejected: 3, errorMessage: 'x' });

    expect(JSON.parse(encodeExportResponseJson('logs', result)))
      .toEqual({ partialSuccess: { rejectedLogRecords: '17', errorMessage: result.errorMessage } });
    expect(JSON.parse(encodeExportResponseJson('traces', result)))
      .toEqual({ partialSuccess: { rejectedSpans: '17', errorMessage: result.errorMessage } });
    expect(decodeExportResponseJson('traces', encodeExportResponseJson('traces', result))).toEqual(result);
    expect(decodeExportResponseJson('logs', '{"partial_success":{"rejected_log_records":2,"error_message":"e"}}'))
      .toEqual({ rejected: 2, errorMessage: 'e' });
  });

  it('bad responses raise OtlpDecodeError', () => {
    decodeError(() => decodeExportResponse('logs', new Uint8Array([0x0a, 0x05, 0x08])));
    decodeError(() => decodeExportResponseJson('logs', '{"partialSuccess":{"rejectedLogRecords":"many"}}'));
  });
});
