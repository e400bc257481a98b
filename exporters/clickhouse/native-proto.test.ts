/**
 * The Native block built straight from OTLP protobuf against the one built
 * from the decoded records (native.test.ts checks that one against the engine):
 * byte for byte the same, for random payloads with every value shape, for the
 * Zipkin and Jaeger translations, and for wire layouts an encoder may produce
 * that ours does not (fields out of order, repeated messages merged).
 */
import { describe, expect, it } from 'vitest';
import { randomTraces, meshSpans } from '../../core/otlp/fixtures.ts';
import { decodeTracesProto, encodeTracesProto } from '../../core/otlp/traces-proto.ts';
import { Writer } from '../../core/otlp/protowire.ts';
import { spanCount } from '../../core/model.ts';
import { encodeTracesNative, type NativeBlock } from './native.ts';
import { encodeTracesNativeProto } from './native-proto.ts';
import { zipkinV2ToProto } from '../../receivers/zipkin/v2-translate.ts';
import { decodeV2Json } from '../../receivers/zipkin/v2-json.ts';

const bytesOf = (b: NativeBlock) => Buffer.concat(b.chunks);

function expectSame(parts: Uint8Array[]): void {
  const records = { resourceSpans: parts.flatMap((p) => decodeTracesProto(p).resourceSpans) };
  const rows = spanCount(records);
  const want = encodeTracesNative(records);
  const got = encodeTracesNativeProto(parts, rows);
  expect(got.rows).toBe(rows);
  expect(got.structure).toBe(want.structure);
  expect(bytesOf(got).equals(bytesOf(want))).toBe(true);
}

describe('encodeTracesNativeProto', () => {
  it('matches the record path on random payloads (every AnyValue shape, events, links)', () => {
    for (let seed = 1; seed <= 200; seed++) expectSame([encodeTracesProto(randomTraces(seed))]);
  });

  it('matches on several parts (a joined batch) and on mesh spans', () => {
    expectSame([encodeTracesProto(meshSpans(50)), encodeTracesProto(randomTraces(7)), encodeTracesProto(meshSpans(3, 9))]);
  });

  it('matches on a Zipkin translation', () => {
    const spans = [
      { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', id: '00f067aa0ba902b7', name: 'get', kind: 'SERVER', timestamp: 1_700_000_000_000_000, duration: 10,
        localEndpoint: { serviceName: 'web', ipv4: '10.0.0.1', port: 80 }, annotations: [{ timestamp: 1_700_000_000_000_001, value: 'x' }],
        tags: { 'http.status_code': '500', error: 'boom', 'otel.library.name': 'l' } },
      { traceId: '4bf92f3577b34da6a3ce929d0e0e4736', id: '00f067aa0ba902b8', parentId: '00f067aa0ba902b7', name: 'q', timestamp: 1_700_000_000_000_002, duration: 1 },
    ];
    expectSame([zipkinV2ToProto(decodeV2Json(Buffer.from(JSON.stringify(spans))), { parseStringTags: true })]);
  });

  it('reads the resource and scope after their spans, merges repeated fields, and stores a span that ends before it starts with duration 0', () => {
    const w = new Writer();
    const rs = w.startMessage(1);
    const ss = w.startMessage(2);
    const sp = w.startMessage(2);
    w.bytes(1, Buffer.alloc(16, 0xab));
    w.bytes(2, Buffer.alloc(8, 1));
    w.bytes(4, Buffer.alloc(8, 0)); // an all-zero parent: no parent
    w.string(5, 'first');
    w.string(5, 'second'); // the last value wins
    w.tag(7, 1);
    w.fixed64(2_000n);
    w.tag(8, 1);
    w.fixed64(1_000n);
    // A KeyValue with its value before its key, and an int value.
    const kv = w.startMessage(9);
    const v = w.startMessage(2);
    w.tag(3, 0);
    w.int64(-42n);
    w.endMessage(v);
    w.string(1, 'n');
    w.endMessage(kv);
    let st = w.startMessage(15);
    w.string(2, 'why');
    w.endMessage(st);
    st = w.startMessage(15);
    w.tag(3, 0);
    w.uint32(2);
    w.endMessage(st);
    w.endMessage(sp);
    const scope = w.startMessage(1);
    w.string(1, 'lib');
    w.endMessage(scope);
    w.endMessage(ss);
    const res = w.startMessage(1);
    const a = w.startMessage(1);
    w.string(1, 'service.name');
    const av = w.startMessage(2);
    w.string(1, 'svc');
    w.endMessage(av);
    w.endMessage(a);
    w.endMessage(res);
    w.endMessage(rs);
    const bytes = w.finish();
    expectSame([bytes]);
    const span = decodeTracesProto(bytes).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(span).toMatchObject({ name: 'second', parentSpanId: '', status: { code: 2, message: 'why' } });
  });

  it('refuses a payload whose span count is not the one given', () => {
    expect(() => encodeTracesNativeProto([encodeTracesProto(meshSpans(4))], 5)).toThrow(/holds 4 spans, not 5/);
  });
});
