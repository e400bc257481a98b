/**
 * Input an attacker would send to the OTLP decoders: JavaScript prototype
 * names where OTLP/JSON takes a value, an enum name or a key, and string
 * fields that are not UTF-8 (protobuf bytes, a JSON body, lone surrogates
 * in \u escapes). Every case must be an OtlpDecodeError (HTTP 400 / gRPC
 * INVALID_ARGUMENT), on the decoders and on the bytes-only scan alike.
 */
import { describe, expect, it } from 'vitest';
import { KvList, newLogRecord, newSpan, type LogsData, type TracesData } from '../model.ts';
import { OtlpDecodeError, decodeLogsJson, decodeLogsProto, decodeTracesJson, decodeTracesProto, encodeLogsProto, encodeTracesProto } from './index.ts';
import { scanLogsProto, scanTracesProto } from './scan.ts';

function refused(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(OtlpDecodeError);
    return (e as Error).message;
  }
  throw new Error('expected an OtlpDecodeError, the input was accepted');
}

const PROTO_NAMES = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf', '__defineGetter__', 'toLocaleString'];

const logsJson = (record: object, extra: object = {}) =>
  JSON.stringify({ resourceLogs: [{ resource: { attributes: [] }, scopeLogs: [{ scope: {}, logRecords: [record] }], ...extra }] });
const tracesJson = (span: object) =>
  JSON.stringify({ resourceSpans: [{ scopeSpans: [{ spans: [{ traceId: '5b8efff798038103d269b633813fc60c', spanId: '0102030405060708', ...span }] }] }] });

describe('OTLP/JSON: prototype names are never looked up on Object.prototype', () => {
  for (const name of PROTO_NAMES) {
    it(`"${name}" as a doubleValue, an enum name, nested in kvlist and array values`, () => {
      refused(() => decodeLogsJson(logsJson({ body: { doubleValue: name } })));
      refused(() => decodeLogsJson(logsJson({ attributes: [{ key: 'k', value: { doubleValue: name } }] })));
      refused(() => decodeLogsJson(logsJson({ attributes: [{ key: 'k', value: { kvlistValue: { values: [{ key: 'n', value: { doubleValue: name } }] } } }] })));
      refused(() => decodeLogsJson(logsJson({ attributes: [{ key: 'k', value: { arrayValue: { values: [{ doubleValue: name }] } } }] })));
      expect(refused(() => decodeLogsJson(logsJson({ severityNumber: name })))).toMatch(/severityNumber: expected an enum/);
      expect(refused(() => decodeTracesJson(tracesJson({ kind: name })))).toMatch(/kind: expected an enum/);
      expect(refused(() => decodeTracesJson(tracesJson({ status: { code: name } })))).toMatch(/status\.code/);
    });
  }

  it('an unknown enum name is refused, a known one still read', () => {
    refused(() => decodeTracesJson(tracesJson({ kind: 'SPAN_KIND_NOPE' })));
    expect(decodeTracesJson(tracesJson({ kind: 'SPAN_KIND_CLIENT' })).resourceSpans[0]!.scopeSpans[0]!.spans[0]!.kind).toBe(3);
  });

  it('"__proto__" as a key anywhere in a message is refused (JSON.parse makes it an own key)', () => {
    refused(() => decodeLogsJson('{"__proto__": {"resourceLogs": []}}'));
    refused(() => decodeLogsJson(logsJson({ __proto__x: 1 }).replace('__proto__x', '__proto__')));
    refused(() => decodeLogsJson(logsJson({ body: { x: 1 } }).replace('"x"', '"__proto__"')));
    refused(() => decodeLogsJson(logsJson({ body: { x: 1 } }).replace('"x"', '"\\u005f_proto__"')));
    refused(() => decodeTracesJson(tracesJson({ status: { x: { code: 2 } } }).replace('"x"', '"__proto__"')));
  });

  it('prototype names of fields the message has are not read through the prototype', () => {
    // Object.prototype members that a lookup without own-property checks would find.
    const poisoned = Object.prototype as unknown as Record<string, unknown>;
    poisoned.severityText = 'polluted';
    poisoned.stringValue = 'polluted';
    try {
      const rec = decodeLogsJson(logsJson({ body: { intValue: '5' } })).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
      expect(rec.severityText).toBe('');
      expect(rec.body).toBe(5n);
    } finally {
      delete poisoned.severityText;
      delete poisoned.stringValue;
    }
  });

  it('prototype names as plain string data (attribute keys and values) are kept as the strings they are', () => {
    const rec = decodeLogsJson(logsJson({ attributes: PROTO_NAMES.map((n) => ({ key: n, value: { stringValue: n } })) })).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    expect(rec.attributes.map((a) => [a.key, a.value])).toEqual(PROTO_NAMES.map((n) => [n, n]));
  });
});

describe('OTLP/JSON: invalid UTF-8 and lone surrogates', () => {
  it('a body that is not valid UTF-8 is refused, not read with U+FFFD', () => {
    const good = Buffer.from(logsJson({ body: { stringValue: 'AB' } }));
    const bad = Buffer.from(good);
    bad[bad.indexOf('AB')] = 0xff;
    expect(decodeLogsJson(good).resourceLogs).toHaveLength(1);
    expect(refused(() => decodeLogsJson(bad))).toMatch(/not valid UTF-8/);
    const trunc = Buffer.from(good);
    trunc[trunc.indexOf('AB')] = 0xe2; // a 3-byte lead with one continuation missing
    refused(() => decodeLogsJson(trunc));
  });

  it('a lone surrogate escape in a value or a key is refused; a pair is read', () => {
    expect(refused(() => decodeLogsJson(logsJson({ body: { stringValue: 'x\\ud800y' } }).replace(/\\\\/g, '\\'))))
      .toMatch(/lone UTF-16 surrogate/);
    refused(() => decodeLogsJson(logsJson({ attributes: [{ key: 'k\\uDFFF', value: {} }] }).replace(/\\\\/g, '\\')));
    refused(() => decodeTracesJson(tracesJson({ name: '\\udc00' }).replace(/\\\\/g, '\\')));
    const ok = decodeLogsJson(logsJson({ body: { stringValue: '\\ud83d\\ude00' } }).replace(/\\\\/g, '\\'));
    expect(ok.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.body).toBe('😀');
  });
});

// ------------------------------------------------------------------ protobuf

const MARK = 'QQQQ';
const BAD_SEQUENCES = [[0xff, 0x41, 0x41, 0x41], [0xc3, 0x28, 0x41, 0x41], [0xe2, 0x82, 0x41, 0x41], [0xed, 0xa0, 0x80, 0x41], [0xc0, 0xaf, 0x41, 0x41], [0x41, 0x41, 0x41, 0xf0]];

/** `bytes` with every occurrence of MARK replaced by `seq` (same length). */
function plant(bytes: Uint8Array, seq: number[]): Buffer {
  const out = Buffer.from(bytes);
  let at = out.indexOf(MARK);
  expect(at).toBeGreaterThanOrEqual(0);
  while (at >= 0) {
    out.set(seq, at);
    at = out.indexOf(MARK, at + 1);
  }
  return out;
}

const res = (key = 'service.name', value = 'svc') => ({ attributes: [{ key, value }], droppedAttributesCount: 0 });
const scope = (name = 's') => ({ name, version: '', attributes: [], droppedAttributesCount: 0 });

function logs(rec: Parameters<typeof newLogRecord>[0], resource = res(), scopeName = 's', schemaUrl = ''): LogsData {
  return { resourceLogs: [{ resource, schemaUrl, scopeLogs: [{ scope: scope(scopeName), schemaUrl: '', logRecords: [newLogRecord(rec)] }] }] };
}
function traces(span: Parameters<typeof newSpan>[0]): TracesData {
  return { resourceSpans: [{ resource: res(), schemaUrl: '', scopeSpans: [{ scope: scope(), schemaUrl: '', spans: [newSpan({ traceId: '5b8efff798038103d269b633813fc60c', spanId: '0102030405060708', ...span })] }] }] };
}

const LOG_PLACES: Record<string, LogsData> = {
  'attribute key': logs({ attributes: [{ key: `k${MARK}`, value: 'v' }] }),
  'attribute value': logs({ attributes: [{ key: 'k', value: `v${MARK}` }] }),
  'long attribute key (past the key cache)': logs({ attributes: [{ key: `${'k'.repeat(80)}${MARK}`, value: 'v' }] }),
  'long attribute value': logs({ attributes: [{ key: 'k', value: `${'v'.repeat(300)}${MARK}${'w'.repeat(300)}` }] }),
  'nested kvlist value': logs({ attributes: [{ key: 'k', value: new KvList([{ key: 'n', value: [`a${MARK}`] }]) }] }),
  'nested kvlist key': logs({ attributes: [{ key: 'k', value: new KvList([{ key: `n${MARK}`, value: 1n }]) }] }),
  body: logs({ body: `GET /${MARK} HTTP/1.1` }),
  'severity text': logs({ severityText: MARK }),
  'event name': logs({ eventName: MARK }),
  'resource attribute key': logs({}, res(`r${MARK}`)),
  'resource attribute value': logs({}, res('service.name', `svc-${MARK}`)),
  'scope name': logs({}, res(), `s${MARK}`),
  'schema url': logs({}, res(), 's', `https://x/${MARK}`),
};

const SPAN_PLACES: Record<string, TracesData> = {
  'span name': traces({ name: `GET ${MARK}` }),
  'span attribute value': traces({ attributes: [{ key: 'http.route', value: `/${MARK}` }] }),
  'trace state': traces({ traceState: `k=${MARK}` }),
  'event name': traces({ events: [{ timeUnixNano: 1n, name: MARK, attributes: [], droppedAttributesCount: 0 }] }),
  'event attribute': traces({ events: [{ timeUnixNano: 1n, name: 'e', attributes: [{ key: MARK, value: 1n }], droppedAttributesCount: 0 }] }),
  'link trace state': traces({ links: [{ traceId: '5b8efff798038103d269b633813fc60d', spanId: '0102030405060709', traceState: MARK, attributes: [], droppedAttributesCount: 0, flags: 0 }] }),
  'status message': traces({ status: { code: 2, message: `failed ${MARK}` } }),
};

describe('OTLP/protobuf: a string field that is not UTF-8 is refused by the decoder and the scan', () => {
  for (const [place, data] of Object.entries(LOG_PLACES)) {
    it(`logs: ${place}`, () => {
      const good = encodeLogsProto(data);
      expect(scanLogsProto(good)).toBe(1);
      decodeLogsProto(good);
      for (const seq of BAD_SEQUENCES) {
        const bad = plant(good, seq);
        expect(refused(() => decodeLogsProto(bad))).toMatch(/not valid UTF-8/);
        expect(refused(() => scanLogsProto(bad))).toMatch(/not valid UTF-8/);
      }
      // Valid multi-byte UTF-8 (é, €, 😀 split over the marker) is accepted by both.
      const multi = plant(good, [0xc3, 0xa9, 0xe2, 0x82]);
      refused(() => scanLogsProto(multi)); // € cut short: invalid
      const ok = plant(good, [0xf0, 0x9f, 0x98, 0x80]);
      expect(scanLogsProto(ok)).toBe(1);
      expect(JSON.stringify(decodeLogsProto(ok), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).toContain('😀');
    });
  }
  for (const [place, data] of Object.entries(SPAN_PLACES)) {
    it(`traces: ${place}`, () => {
      const good = encodeTracesProto(data);
      expect(scanTracesProto(good)).toBe(1);
      for (const seq of BAD_SEQUENCES) {
        const bad = plant(good, seq);
        expect(refused(() => decodeTracesProto(bad))).toMatch(/not valid UTF-8/);
        expect(refused(() => scanTracesProto(bad))).toMatch(/not valid UTF-8/);
      }
    });
  }

  it('a bytes value is not a string: any bytes are accepted', () => {
    const data = logs({ attributes: [{ key: 'b', value: new Uint8Array(Buffer.from(MARK)) }] });
    const bad = plant(encodeLogsProto(data), [0xff, 0xfe, 0x00, 0x80]);
    expect(scanLogsProto(bad)).toBe(1);
    expect(decodeLogsProto(bad).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes[0]!.value).toEqual(new Uint8Array([0xff, 0xfe, 0x00, 0x80]));
  });

  it('a request at an odd offset of a larger buffer (the word-wise ASCII check) is checked exactly', () => {
    const good = encodeLogsProto(LOG_PLACES['long attribute value']!);
    for (let off = 0; off < 8; off++) {
      const big = Buffer.alloc(good.length + 16, 0x80);
      const view = big.subarray(off, off + good.length);
      view.set(good);
      expect(scanLogsProto(view)).toBe(1);
      view.set(plant(good, [0x41, 0x41, 0x41, 0x80]));
      refused(() => scanLogsProto(view));
    }
  });
});

describe('countRecords (max_records_per_request before decoding)', () => {
  it('counts what the scan counts, for logs and traces', async () => {
    const { randomLogs, randomTraces } = await import('./fixtures.ts');
    const { countRecords } = await import('./count.ts');
    for (let seed = 1; seed <= 50; seed++) {
      const l = encodeLogsProto(randomLogs(seed));
      const t = encodeTracesProto(randomTraces(seed));
      expect(countRecords(l), `logs seed ${seed}`).toBe(scanLogsProto(l));
      expect(countRecords(t), `traces seed ${seed}`).toBe(scanTracesProto(t));
    }
  });

  it('counts a million empty records in 2 MB without building them', async () => {
    const { countRecords } = await import('./count.ts');
    const n = 1_000_000;
    const records = Buffer.alloc(n * 2);
    for (let i = 0; i < n; i++) records[i * 2] = 0x12; // ScopeLogs.log_records, length 0
    const scope = Buffer.concat([Buffer.from([0x12]), varint(records.length), records]);
    const resource = Buffer.concat([Buffer.from([0x0a]), varint(scope.length), scope]);
    expect(countRecords(resource)).toBe(n);
  });
});

function varint(n: number): Buffer {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return Buffer.from(out);
}
