/**
 * Protobuf codec properties: random models round-trip; protobufjs agrees with
 * our encoder; unknown fields are skipped; garbage, truncation, wrong wire
 * types, overlong varints, bad ids and hostile nesting all raise OtlpDecodeError.
 */
import { describe, expect, it } from 'vitest';
import { newLogRecord } from '../model.ts';
import type { LogsData } from '../model.ts';
import {
  OtlpDecodeError, decodeLogsProto, decodeTracesProto, encodeLogsProto, encodeTracesProto,
} from './index.ts';
import { Rng, meshAccessLogs, meshSpans, randomLogs, randomTraces } from './fixtures.ts';
import { loadReference } from './proto/reference.ts';

// ---- a tiny independent protobuf builder for hand-crafted inputs
function varint(n: bigint): number[] {
  const out: number[] = [];
  let u = BigInt.asUintN(64, n);
  while (u > 0x7fn) {
    out.push(Number(u & 0x7fn) | 0x80);
    u >>= 7n;
  }
  out.push(Number(u));
  return out;
}
const tag = (field: number, wt: number) => varint(BigInt((field << 3) | wt));
const v = (field: number, n: number | bigint) => [...tag(field, 0), ...varint(BigInt(n))];
const f64 = (field: number, n: bigint) => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(n);
  return [...tag(field, 1), ...b];
};
const f32 = (field: number, n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return [...tag(field, 5), ...b];
};
const ld = (field: number, body: number[] | string) => {
  const bytes = typeof body === 'string' ? [...Buffer.from(body)] : body;
  return [...tag(field, 2), ...varint(BigInt(bytes.length)), ...bytes];
};
const bytes = (...parts: number[][]) => new Uint8Array(parts.flat());
/** ExportLogsServiceRequest holding one record with the given LogRecord body. */
const logReq = (record: number[]) => bytes(ld(1, ld(2, ld(2, record))));

function expectDecodeError(fn: () => unknown, pattern?: RegExp): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(OtlpDecodeError);
  if (pattern) expect((caught as Error).message).toMatch(pattern);
}

describe('protobuf round trip', () => {
  it('random logs models survive encode -> decode', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const model = randomLogs(seed);
      expect(decodeLogsProto(encodeLogsProto(model)), `seed ${seed}`).toEqual(model);
    }
  });

  it('random traces models survive encode -> decode', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const model = randomTraces(seed);
      expect(decodeTracesProto(encodeTracesProto(model)), `seed ${seed}`).toEqual(model);
    }
  });

  it('protobufjs decodes our bytes and re-encodes bytes we decode to the same model', () => {
    const ref = loadReference();
    for (let seed = 1; seed <= 100; seed++) {
      const logs = randomLogs(seed);
      const viaRefLogs = ref.logsRequest.encode(ref.logsRequest.decode(encodeLogsProto(logs))).finish();
      expect(decodeLogsProto(viaRefLogs), `seed ${seed}`).toEqual(logs);
      const traces = randomTraces(seed);
      const viaRefTraces = ref.tracesRequest.encode(ref.tracesRequest.decode(encodeTracesProto(traces))).finish();
      expect(decodeTracesProto(viaRefTraces), `seed ${seed}`).toEqual(traces);
    }
  });

  it('realistic payloads round-trip (multi-byte lengths, shifted sub-messages)', () => {
    const logs = meshAccessLogs(512);
    expect(decodeLogsProto(encodeLogsProto(logs))).toEqual(logs);
    const spans = meshSpans(512);
    expect(decodeTracesProto(encodeTracesProto(spans))).toEqual(spans);
  });

  it('negative enum values are encoded sign-extended and decoded back', () => {
    const model: LogsData = {
      resourceLogs: [{
        resource: { attributes: [], droppedAttributesCount: 0 }, schemaUrl: '',
        scopeLogs: [{ scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: [newLogRecord({ severityNumber: -3 })] }],
      }],
    };
    const enc = encodeLogsProto(model);
    expect(decodeLogsProto(enc)).toEqual(model);
    const ref = loadReference();
    const obj = ref.logsRequest.toObject(ref.logsRequest.decode(enc)) as { resourceLogs: { scopeLogs: { logRecords: { severityNumber: number }[] }[] }[] };
    expect(obj.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.severityNumber).toBe(-3);
  });

  it('rejects a malformed hex id when encoding', () => {
    const model = meshAccessLogs(1);
    model.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.traceId = 'zz'.repeat(16);
    expect(() => encodeLogsProto(model)).toThrow(/invalid hex id/);
  });
});

describe('protobuf decoding details', () => {
  it('decodes a hand-built record and skips unknown fields of every wire type at every level', () => {
    const unknown = [...v(99, 7), ...f64(98, 1n), ...ld(97, 'future'), ...f32(96, 3), ...v(20, 300)];
    const anyValue = [...ld(1, 'hello'), ...unknown];
    const kv = [...ld(1, 'k'), ...ld(2, anyValue), ...unknown];
    const record = [
      ...f64(1, 1_700_000_000_000_000_001n), ...unknown, ...v(2, 9), ...ld(3, 'INFO'), ...ld(5, anyValue),
      ...ld(6, kv), ...v(7, 4), ...f32(8, 1), ...ld(9, Array(16).fill(0xab)), ...ld(10, Array(8).fill(0xcd)),
      ...f64(11, 5n), ...ld(12, 'evt'),
    ];
    const resource = [...ld(1, kv), ...v(2, 1), ...ld(3, 'entity refs (development)'), ...unknown];
    const scope = [...ld(1, 'sc'), ...ld(2, '1.0'), ...ld(3, kv), ...v(4, 2), ...unknown];
    const input = bytes(
      unknown,
      ld(1, [...ld(1, resource), ...unknown, ...ld(2, [...ld(1, scope), ...ld(2, record), ...ld(3, 'surl'), ...unknown]), ...ld(3, 'rurl')]),
      unknown,
    );
    expect(decodeLogsProto(input)).toEqual({
      resourceLogs: [{
        resource: { attributes: [{ key: 'k', value: 'hello' }], droppedAttributesCount: 1 },
        schemaUrl: 'rurl',
        scopeLogs: [{
          scope: { name: 'sc', version: '1.0', attributes: [{ key: 'k', value: 'hello' }], droppedAttributesCount: 2 },
          schemaUrl: 'surl',
          logRecords: [{
            timeUnixNano: 1_700_000_000_000_000_001n, observedTimeUnixNano: 5n, severityNumber: 9, severityText: 'INFO',
            body: 'hello', attributes: [{ key: 'k', value: 'hello' }], droppedAttributesCount: 4, flags: 1,
            traceId: 'ab'.repeat(16), spanId: 'cd'.repeat(8), eventName: 'evt',
          }],
        }],
      }],
    });
  });

  it('reads all-zero ids as absent and keeps the last value of a repeated scalar', () => {
    const rec = [...ld(9, Array(16).fill(0)), ...ld(10, Array(8).fill(0)), ...ld(3, 'first'), ...ld(3, 'second')];
    const lr = decodeLogsProto(logReq(rec)).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
    expect(lr).toMatchObject({ traceId: '', spanId: '', severityText: 'second' });
  });

  it('decodes a Uint8Array view into a larger buffer (byteOffset honoured)', () => {
    const model = meshAccessLogs(5);
    const enc = encodeLogsProto(model);
    const big = new Uint8Array(enc.length + 64).fill(0xff);
    big.set(enc, 32);
    expect(decodeLogsProto(new Uint8Array(big.buffer, 32, enc.length))).toEqual(model);
  });

  it('decodes empty input as an empty request', () => {
    expect(decodeLogsProto(new Uint8Array(0))).toEqual({ resourceLogs: [] });
    expect(decodeTracesProto(new Uint8Array(0))).toEqual({ resourceSpans: [] });
  });

  it('decodes int64 edge values and the empty AnyValue', () => {
    const kv = (n: bigint) => ld(6, [...ld(1, 'n'), ...ld(2, v(3, n))]);
    const rec = [...kv(-1n), ...kv(-(2n ** 63n)), ...kv(2n ** 63n - 1n), ...kv(2n ** 53n + 1n), ...ld(6, [...ld(1, 'e'), ...ld(2, [])])];
    const attrs = decodeLogsProto(logReq(rec)).resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.attributes;
    expect(attrs.map((a) => a.value)).toEqual([-1n, -(2n ** 63n), 2n ** 63n - 1n, 2n ** 53n + 1n, undefined]);
  });
});

describe('protobuf decoding rejects bad input with OtlpDecodeError', () => {
  const valid = [encodeLogsProto(meshAccessLogs(3)), encodeTracesProto(meshSpans(3))];

  it('every truncation of a single-resource request', () => {
    for (const [i, full] of valid.entries()) {
      const decode = i === 0 ? decodeLogsProto : decodeTracesProto;
      for (let n = 1; n < full.length; n++) expectDecodeError(() => decode(full.subarray(0, n)));
    }
  });

  it('random garbage never escapes as another error type and never hangs', () => {
    const rng = new Rng(42);
    for (let i = 0; i < 3000; i++) {
      const buf = Uint8Array.from({ length: rng.int(200) }, () => rng.int(256));
      for (const decode of [decodeLogsProto, decodeTracesProto]) {
        try {
          decode(buf);
        } catch (e) {
          expect(e).toBeInstanceOf(OtlpDecodeError);
        }
      }
    }
  });

  it('random byte flips in valid payloads decode or fail cleanly', () => {
    const rng = new Rng(7);
    for (let i = 0; i < 2000; i++) {
      const which = rng.int(2);
      const buf = Uint8Array.from(valid[which]!);
      for (let k = 0; k < 3; k++) buf[rng.int(buf.length)] = rng.int(256);
      try {
        (which === 0 ? decodeLogsProto : decodeTracesProto)(buf);
      } catch (e) {
        expect(e).toBeInstanceOf(OtlpDecodeError);
      }
    }
  });

  it('a known field with the wrong wire type', () => {
    expectDecodeError(() => decodeLogsProto(bytes(v(1, 5))), /wrong wire type 0 for ExportLogsServiceRequest field 1/);
    expectDecodeError(() => decodeLogsProto(logReq(v(1, 5))), /wrong wire type 0 for LogRecord field 1/);
    expectDecodeError(() => decodeTracesProto(bytes(ld(1, ld(2, ld(2, f64(1, 1n)))))), /wrong wire type 1 for Span field 1/);
  });

  it('invalid and group wire types, field number 0', () => {
    expectDecodeError(() => decodeLogsProto(bytes(tag(50, 6))), /unsupported wire type 6/);
    expectDecodeError(() => decodeLogsProto(bytes(tag(50, 3))), /unsupported wire type 3/);
    expectDecodeError(() => decodeLogsProto(bytes([0x02, 0x00])), /field number 0/);
  });

  it('overlong and truncated varints', () => {
    expectDecodeError(() => decodeLogsProto(bytes([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01])), /longer than 10 bytes/);
    expectDecodeError(() => decodeLogsProto(logReq([0x10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01])), /longer than 10 bytes/);
    expectDecodeError(() => decodeLogsProto(bytes([0x0a, 0xff])), /truncated varint/);
  });

  it('lengths that overrun the parent message or the input', () => {
    expectDecodeError(() => decodeLogsProto(bytes([0x0a, 0x05, 0x12, 0x10, 1, 2, 3])), /overruns/);
    expectDecodeError(() => decodeLogsProto(bytes([0x0a, 0x7f])), /overruns/);
    expectDecodeError(() => decodeLogsProto(logReq([0x09, 1, 2, 3])), /truncated fixed64|overruns/);
  });

  it('ids of the wrong length', () => {
    expectDecodeError(() => decodeLogsProto(logReq(ld(9, [1, 2, 3]))), /trace_id must be 16 bytes, got 3/);
    expectDecodeError(() => decodeTracesProto(bytes(ld(1, ld(2, ld(2, ld(2, Array(7).fill(1))))))), /span_id must be 8 bytes/);
  });

  it('hostile AnyValue nesting is refused, not a stack overflow', () => {
    let value: number[] = ld(1, 'leaf');
    for (let i = 0; i < 200; i++) value = ld(5, ld(1, value));
    expectDecodeError(() => decodeLogsProto(logReq(ld(5, value))), /nested deeper/);
  });
});
