import { describe, expect, it } from 'vitest';
import { KvList, newLogRecord, newSpan, type KeyValue, type LogsData, type TracesData } from '../../core/model.ts';
import { asString, formatDouble, goJsonString } from '../../core/otlp/anyvalue.ts';
import { attrsJson, encodeLogs, encodeTraces, LOG_COLUMNS, SPAN_COLUMNS, spanKindName, statusCodeName } from './rows.ts';

function logsOf(records: ReturnType<typeof newLogRecord>[], resAttrs: KeyValue[] = [], scope = { name: '', version: '', attributes: [] as KeyValue[] }): LogsData {
  return {
    resourceLogs: [
      {
        resource: { attributes: resAttrs, droppedAttributesCount: 0 },
        schemaUrl: 'https://opentelemetry.io/schemas/1.4.0',
        scopeLogs: [{ scope: { ...scope, droppedAttributesCount: 0 }, schemaUrl: 'https://opentelemetry.io/schemas/1.7.0', logRecords: records }],
      },
    ],
  };
}

function rows(text: string, columns: readonly string[]): Record<string, unknown>[] {
  return text.split('\n').map((line) => {
    const arr = JSON.parse(line) as unknown[];
    expect(arr).toHaveLength(columns.length);
    return Object.fromEntries(columns.map((c, i) => [c, arr[i]]));
  });
}

describe('asString (pcommon Value.AsString)', () => {
  it('renders scalars as the Collector does', () => {
    expect(asString('plain')).toBe('plain');
    expect(asString('')).toBe('');
    expect(asString(undefined)).toBe('');
    expect(asString(42n)).toBe('42');
    expect(asString(-9223372036854775808n)).toBe('-9223372036854775808');
    expect(asString(true)).toBe('true');
    expect(asString(false)).toBe('false');
    expect(asString(new Uint8Array([0, 1, 2, 250, 255]))).toBe('AAEC+v8=');
    expect(asString(new Uint8Array([]))).toBe('');
  });

  it('renders doubles like Go encoding/json (ES6 shortest form)', () => {
    expect(asString(1)).toBe('1');
    expect(asString(1.5)).toBe('1.5');
    expect(asString(-0.25)).toBe('-0.25');
    expect(asString(0)).toBe('0');
    expect(asString(-0)).toBe('-0');
    expect(asString(0.1 + 0.2)).toBe('0.30000000000000004');
    expect(asString(1e20)).toBe('100000000000000000000');
    expect(asString(1e21)).toBe('1e+21');
    expect(asString(123456789.125)).toBe('123456789.125');
    expect(asString(0.000001)).toBe('0.000001');
    expect(asString(1e-7)).toBe('1e-7');
    expect(asString(1.5e-10)).toBe('1.5e-10');
    expect(asString(1.7976931348623157e308)).toBe('1.7976931348623157e+308');
    expect(formatDouble(NaN)).toBe('json: unsupported value: NaN');
    expect(formatDouble(Infinity)).toBe('json: unsupported value: +Inf');
    expect(formatDouble(-Infinity)).toBe('json: unsupported value: -Inf');
  });

  it('renders maps and arrays as JSON with sorted keys and JSON-typed values', () => {
    const m = new KvList([
      { key: 'z', value: 'last' },
      { key: 'a', value: 1n },
      { key: 'm', value: [true, 2.5, 'x', undefined, new Uint8Array([1])] },
      { key: 'n', value: new KvList([{ key: 'k', value: -3n }]) },
      { key: 'e', value: undefined },
    ]);
    expect(asString(m)).toBe('{"a":1,"e":null,"m":[true,2.5,"x",null,"AQ=="],"n":{"k":-3},"z":"last"}');
    expect(asString([1n, 'two', [3n]])).toBe('[1,"two",[3]]');
    expect(asString([])).toBe('[]');
    expect(asString(new KvList([]))).toBe('{}');
  });

  it('keeps the last of duplicate map keys and sorts by code point', () => {
    expect(asString(new KvList([{ key: 'k', value: 1n }, { key: 'k', value: 2n }]))).toBe('{"k":2}');
    expect(asString(new KvList([{ key: '\u{1F600}', value: 1n }, { key: '\uFFFF', value: 2n }, { key: 'B', value: 3n }, { key: 'a', value: 4n }]))).toBe(
      '{"B":3,"a":4,"\uFFFF":2,"\u{1F600}":1}',
    );
  });

  it('yields empty text when a nested double is NaN or Inf (json.Marshal fails)', () => {
    expect(asString([1n, NaN])).toBe('');
    expect(asString(new KvList([{ key: 'x', value: Infinity }]))).toBe('');
  });

  it('escapes strings inside JSON like Go without HTML escaping', () => {
    expect(goJsonString('<a&b>')).toBe('"<a&b>"');
    expect(goJsonString('q"\\\n\t\u0001')).toBe('"q\\"\\\\\\n\\t\\u0001"');
    expect(goJsonString('line\u2028sep\u2029')).toBe('"line\\u2028sep\\u2029"');
    expect(goJsonString('bad\ud800x')).toBe('"bad\ufffdx"');
    expect(asString(['<tag>'])).toBe('["<tag>"]');
  });
});

describe('attribute maps', () => {
  it('stringifies every value with AsString, in insertion order', () => {
    const json = attrsJson([
      { key: 's', value: 'v' },
      { key: 'i', value: 7n },
      { key: 'd', value: 2.5 },
      { key: 'b', value: true },
      { key: 'y', value: new Uint8Array([104, 105]) },
      { key: 'a', value: ['x', 1n] },
      { key: 'm', value: new KvList([{ key: 'k', value: 'v' }]) },
      { key: 'e', value: undefined },
    ]);
    expect(JSON.parse(json)).toEqual({ s: 'v', i: '7', d: '2.5', b: 'true', y: 'aGk=', a: '["x",1]', m: '{"k":"v"}', e: '' });
    expect(Object.keys(JSON.parse(json) as object)).toEqual(['s', 'i', 'd', 'b', 'y', 'a', 'm', 'e']);
    expect(attrsJson([])).toBe('{}');
  });
});

describe('log rows', () => {
  const traceId = '0102030405060708090a0b0c0d0e0f10';
  const spanId = 'a1a2a3a4a5a6a7a8';

  it('maps every column as the Collector does', () => {
    const data = logsOf(
      [
        newLogRecord({
          timeUnixNano: 1_700_000_000_123_456_789n,
          observedTimeUnixNano: 1_700_000_001_000_000_000n,
          severityNumber: 17,
          severityText: 'ERROR',
          body: new KvList([{ key: 'msg', value: 'boom' }, { key: 'code', value: 500n }]),
          attributes: [{ key: 'http.status', value: 500n }, { key: 'ok', value: false }],
          flags: 0x101,
          traceId,
          spanId,
          eventName: 'exception',
        }),
      ],
      [{ key: 'service.name', value: 'checkout' }, { key: 'host', value: 'h1' }],
      { name: 'io.scope', version: '1.2.3', attributes: [{ key: 'lib', value: 'x' }] },
    );
    const enc = encodeLogs(data);
    expect(enc.rows).toBe(1);
    const [r] = rows(enc.text, LOG_COLUMNS);
    expect(r).toEqual({
      Timestamp: 1700000000123456789,
      TimestampTime: 1700000000,
      TraceId: traceId,
      SpanId: spanId,
      TraceFlags: 1,
      SeverityText: 'ERROR',
      SeverityNumber: 17,
      ServiceName: 'checkout',
      ResourceSchemaUrl: 'https://opentelemetry.io/schemas/1.4.0',
      ResourceAttributes: { 'service.name': 'checkout', host: 'h1' },
      ScopeSchemaUrl: 'https://opentelemetry.io/schemas/1.7.0',
      ScopeName: 'io.scope',
      ScopeVersion: '1.2.3',
      ScopeAttributes: { lib: 'x' },
      Body: '{"code":500,"msg":"boom"}',
      LogAttributes: { 'http.status': '500', ok: 'false' },
      EventName: 'exception',
    });
    // The nanosecond integer is written exactly (JSON.parse above rounds it).
    expect(enc.text.startsWith('[1700000000123456789,1700000000,')).toBe(true);
  });

  it('takes the observed timestamp when the record has none, and empty values when absent', () => {
    const [r] = rows(encodeLogs(logsOf([newLogRecord({ observedTimeUnixNano: 1_600_000_000_500_000_000n })])).text, LOG_COLUMNS);
    expect(r!.TimestampTime).toBe(1600000000);
    expect(r!.TraceId).toBe('');
    expect(r!.SpanId).toBe('');
    expect(r!.ServiceName).toBe('');
    expect(r!.Body).toBe('');
    expect(r!.LogAttributes).toEqual({});
    expect(r!.EventName).toBe('');
    const zero = encodeLogs(logsOf([newLogRecord({})])).text;
    expect(zero.startsWith('[0,0,')).toBe(true);
  });

  it('stringifies every body type', () => {
    const bodies = ['text', 12n, 0.5, true, new Uint8Array([255]), ['a', 1n], undefined];
    const out = rows(encodeLogs(logsOf(bodies.map((body) => newLogRecord({ body, timeUnixNano: 1n })))).text, LOG_COLUMNS);
    expect(out.map((r) => r.Body)).toEqual(['text', '12', '0.5', 'true', '/w==', '["a",1]', '']);
  });

  it('reads service.name with AsString and truncates severity/flags to UInt8 like the Collector', () => {
    const [r] = rows(encodeLogs(logsOf([newLogRecord({ severityNumber: 300, flags: 0x1ff })], [{ key: 'service.name', value: 5n }])).text, LOG_COLUMNS);
    expect(r!.ServiceName).toBe('5');
    expect(r!.SeverityNumber).toBe(300 & 0xff);
    expect(r!.TraceFlags).toBe(0xff);
  });

  it('writes self-describing JSONEachRow with the same values', () => {
    const data = logsOf([newLogRecord({ timeUnixNano: 5_000_000_000n, body: 'b' })], [{ key: 'service.name', value: 's' }]);
    const obj = JSON.parse(encodeLogs(data, 'JSONEachRow').text) as Record<string, unknown>;
    expect(Object.keys(obj)).toEqual([...LOG_COLUMNS]);
    expect(obj).toMatchObject({ Timestamp: 5000000000, TimestampTime: 5, Body: 'b', ServiceName: 's' });
  });

  it('replaces lone surrogates (ClickHouse rejects their escapes) with U+FFFD, keeping pairs and literal text', () => {
    const data = logsOf([
      newLogRecord({ body: 'bad\ud800x \u{1F600}', attributes: [{ key: 'k\udc00', value: 'v\ud83d' }, { key: 'lit', value: '\\ud800 stays' }] }),
    ]);
    const text = encodeLogs(data).text;
    expect(text).not.toMatch(/(?<!\\)(\\\\)*\\ud[89a-f]/);
    const [r] = rows(text, LOG_COLUMNS);
    expect(r!.Body).toBe('bad\ufffdx \u{1F600}');
    expect(r!.LogAttributes).toEqual({ 'k\ufffd': 'v\ufffd', lit: '\\ud800 stays' });
  });

  it('encodes an empty payload as no rows', () => {
    const e = encodeLogs({ resourceLogs: [] });
    expect(e.rows).toBe(0);
    expect(e.body.length).toBe(0);
    expect(e.text).toBe('');
  });
});

describe('span rows', () => {
  it('maps every column, events and links as the Collector does', () => {
    const data: TracesData = {
      resourceSpans: [
        {
          resource: { attributes: [{ key: 'service.name', value: 'api' }], droppedAttributesCount: 0 },
          schemaUrl: '',
          scopeSpans: [
            {
              scope: { name: 'io.opentelemetry.contrib.clickhouse', version: '1.0.0', attributes: [], droppedAttributesCount: 0 },
              schemaUrl: '',
              spans: [
                newSpan({
                  traceId: '01020300000000000000000000000000',
                  spanId: '0102030000000000',
                  parentSpanId: '0102040000000000',
                  traceState: 'trace state',
                  name: 'call db',
                  kind: 1,
                  startTimeUnixNano: 1_700_000_000_000_000_000n,
                  endTimeUnixNano: 1_700_000_060_000_000_000n,
                  attributes: [{ key: 'service.name', value: 'v' }, { key: 'n', value: 3.0 }],
                  status: { code: 2, message: 'error' },
                  events: [{ timeUnixNano: 1_700_000_000_000_000_001n, name: 'event1', attributes: [{ key: 'level', value: 'info' }], droppedAttributesCount: 0 }],
                  links: [
                    { traceId: '01020500000000000000000000000000', spanId: '0102050000000000', traceState: 'error', attributes: [{ key: 'k', value: 'v' }], droppedAttributesCount: 0, flags: 0 },
                  ],
                }),
              ],
            },
          ],
        },
      ],
    };
    const enc = encodeTraces(data);
    const [r] = rows(enc.text, SPAN_COLUMNS);
    expect(r).toEqual({
      Timestamp: 1700000000000000000,
      TraceId: '01020300000000000000000000000000',
      SpanId: '0102030000000000',
      ParentSpanId: '0102040000000000',
      TraceState: 'trace state',
      SpanName: 'call db',
      SpanKind: 'Internal',
      ServiceName: 'api',
      ResourceAttributes: { 'service.name': 'api' },
      ScopeName: 'io.opentelemetry.contrib.clickhouse',
      ScopeVersion: '1.0.0',
      SpanAttributes: { 'service.name': 'v', n: '3' },
      Duration: 60000000000,
      StatusCode: 'Error',
      StatusMessage: 'error',
      'Events.Timestamp': [1700000000000000001],
      'Events.Name': ['event1'],
      'Events.Attributes': [{ level: 'info' }],
      'Links.TraceId': ['01020500000000000000000000000000'],
      'Links.SpanId': ['0102050000000000'],
      'Links.TraceState': ['error'],
      'Links.Attributes': [{ k: 'v' }],
    });
    expect(enc.text).toContain('[1700000000000000001]');
  });

  it('names kinds and status codes like ptrace', () => {
    expect([0, 1, 2, 3, 4, 5].map(spanKindName)).toEqual(['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer']);
    expect([0, 1, 2].map(statusCodeName)).toEqual(['Unset', 'Ok', 'Error']);
  });

  it('writes empty nested arrays and a zero duration for a span ending before it starts', () => {
    const data: TracesData = {
      resourceSpans: [{ resource: { attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', scopeSpans: [{ scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', spans: [newSpan({ startTimeUnixNano: 10n, endTimeUnixNano: 5n })] }] }],
    };
    const [r] = rows(encodeTraces(data).text, SPAN_COLUMNS);
    expect(r!.Duration).toBe(0);
    expect(r!.SpanKind).toBe('Unspecified');
    expect(r!.StatusCode).toBe('Unset');
    expect(r!['Events.Name']).toEqual([]);
    expect(r!['Links.Attributes']).toEqual([]);
  });
});
