/**
 * Regressions found by the receiver fuzzer (test/fuzz): each input was
 * accepted (202) but produced a payload the rest of the pipeline could not
 * encode. Replay the originals with `npm run fuzz -- --format F --replay SEED`.
 */
import { describe, expect, it } from 'vitest';
import { decodeTracesJson, decodeTracesProto, encodeTracesJson, encodeTracesProto } from '../../core/otlp/index.ts';
import type { TracesData } from '../../core/model.ts';
import { ZipkinDecodeError } from './model.ts';
import { decodeV1Json } from './v1-json.ts';
import { decodeV1Thrift } from './v1-thrift.ts';
import { zipkinV1ToTraces } from './v1-translate.ts';
import { v1ThriftBody } from './testdata/v1-thrift-encode.ts';

const U64 = 2n ** 64n;
const spans = (td: TracesData) => td.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans));

/** What the fuzz sink checks: every time fits uint64 and the payload survives both OTLP encodings. */
function expectEncodable(td: TracesData): void {
  for (const s of spans(td)) {
    for (const t of [s.startTimeUnixNano, s.endTimeUnixNano, ...s.events.map((e) => e.timeUnixNano)]) {
      expect(t >= 0n && t < U64, `time ${t}`).toBe(true);
    }
  }
  expect(spans(decodeTracesProto(encodeTracesProto(td)))).toHaveLength(spans(td).length);
  expect(spans(decodeTracesJson(encodeTracesJson(td)))).toHaveLength(spans(td).length);
}

const v1 = (o: Record<string, unknown>) => Buffer.from(JSON.stringify([{ traceId: '4bf92f3577b34da6', id: '00f067aa0ba902b7', name: 'get', ...o }]));

describe('zipkin v1 times out of range (fuzz zipkin-v1-json 0x9035d878, 0xe352098d, 0xa7cf3fcf; zipkin-v1-thrift 0x35a5d1c8)', () => {
  it('JSON: a time beyond int64 is a 400, as in the Collector (was accepted, then not encodable)', () => {
    const raw = (extra: string) => Buffer.from(`[{"traceId":"4bf92f3577b34da6","id":"00f067aa0ba902b7","name":"get",${extra}}]`);
    for (const extra of ['"timestamp":123456789012345678901234567890', '"duration":18446744073709551616', '"annotations":[{"timestamp":1e20,"value":"sr"}]']) {
      expect(() => decodeV1Json(raw(extra), false), extra).toThrow(ZipkinDecodeError);
      expect(() => decodeV1Json(raw(extra), false), extra).toThrow(/out of range for int64/);
    }
  });

  it('JSON: int64 µs whose ns overflow uint64 wrap as the Collector\'s conversion does', () => {
    const td = zipkinV1ToTraces(decodeV1Json(v1({ timestamp: 9_000_000_000_000_000_000, duration: 100, annotations: [{ timestamp: 9_100_000_000_000_000_000, value: 'sr' }] }), false));
    expectEncodable(td);
    expect(spans(td)[0]!.startTimeUnixNano).toBe(BigInt.asUintN(64, 9_000_000_000_000_000_000n * 1000n));
  });

  it('thrift: an i64 timestamp near 2^63 is accepted with its ns wrapped into uint64', () => {
    const body = v1ThriftBody([{ traceId: 0x77n, id: 0x2n, name: 't', timestamp: 2n ** 63n - 1n, duration: 5n, annotations: [{ timestamp: 2n ** 62n, value: 'cs' }] }]);
    const td = zipkinV1ToTraces(decodeV1Thrift(body));
    expectEncodable(td);
  });
});

describe('zipkin v1 annotation values that are prototype names (fuzz zipkin-v1-thrift 0x4ff96dd4)', () => {
  it('an annotation "__proto__" or "constructor" is an event, not a span kind (was: kind = Object.prototype)', () => {
    for (const value of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const thrift = decodeV1Thrift(v1ThriftBody([{ traceId: 0x77n, id: 0x2n, name: 't', annotations: [{ timestamp: 1_000n, value, host: { serviceName: 'svc' } }] }]));
      const json = decodeV1Json(v1({ annotations: [{ timestamp: 1_000, value, endpoint: { serviceName: 'svc' } }] }), false);
      for (const td of [zipkinV1ToTraces(thrift), zipkinV1ToTraces(json)]) {
        const s = spans(td)[0]!;
        expect(s.kind, value).toBe(0);
        expect(s.events.map((e) => e.name)).toEqual([value]);
        expectEncodable(td);
      }
    }
  });
});
