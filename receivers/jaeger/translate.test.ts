/**
 * Jaeger thrift (both protocols) and api_v2 protobuf decoding + translation,
 * checked field by field against the Collector's jaeger translator rules.
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import protobuf from 'protobufjs';
import { getAttr, SpanKind, StatusCode, type TracesData } from '../../core/model.ts';
import { BinaryReader, CompactReader, ThriftDecodeError } from '../../core/thrift/index.ts';
import { decodePostSpansRequest } from './proto-decode.ts';
import { readBatchBody, readEmitBatch } from './thrift-decode.ts';
import { jaegerToTraces } from './translate.ts';
import { batchBody, emitBatchPacket, sampleBatch, type TBatch, type TSpan } from './testdata/thrift-encode.ts';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

function only(td: TracesData) {
  expect(td.resourceSpans).toHaveLength(1);
  return td.resourceSpans[0]!;
}

function spanOf(extra: Partial<TSpan>): TBatch {
  return {
    process: { serviceName: 'svc' },
    spans: [
      {
        traceIdLow: 2n,
        traceIdHigh: 0n,
        spanId: 3n,
        parentSpanId: 0n,
        operationName: 'op',
        flags: 0,
        startTime: 1_000_000n,
        duration: 10n,
        ...extra,
      },
    ],
  };
}

const viaCompact = (b: TBatch) => jaegerToTraces([readEmitBatch(new CompactReader(emitBatchPacket('compact', b)))]);
const viaBinary = (b: TBatch) => jaegerToTraces([readEmitBatch(new BinaryReader(emitBatchPacket('binary', b)))]);
const viaHttp = (b: TBatch) => jaegerToTraces([readBatchBody(new BinaryReader(batchBody(b)))]);

describe.each([
  ['compact agent packet', viaCompact],
  ['binary agent packet', viaBinary],
  ['thrift HTTP body', viaHttp],
])('jaeger thrift via %s', (_name, decode) => {
  it('translates a realistic batch field by field', () => {
    const rs = only(decode(sampleBatch()));
    expect(rs.resource.attributes).toEqual([
      { key: 'service.name', value: 'checkout' },
      { key: 'ip', value: '10.0.0.7' },
      { key: 'host.name', value: 'web-1' },
      { key: 'opencensus.exporterversion', value: 'Jaeger-Go-2.30.0' },
    ]);
    expect(rs.scopeSpans).toHaveLength(1);
    const [server, db] = rs.scopeSpans[0]!.spans;
    expect(server).toMatchObject({
      traceId: TRACE,
      spanId: '00f067aa0ba902b7',
      parentSpanId: '',
      name: 'GET /api/cart',
      kind: SpanKind.SERVER,
      startTimeUnixNano: 1_700_000_000_000_000_000n,
      endTimeUnixNano: 1_700_000_000_005_250_000n,
      status: { code: StatusCode.UNSET, message: '' },
      links: [],
    });
    expect(getAttr(server!.attributes, 'span.kind')).toBeUndefined();
    expect(getAttr(server!.attributes, 'http.status_code')).toBe(200n);
    expect(getAttr(server!.attributes, 'sampler.param')).toBe(true);
    expect(server!.events).toEqual([
      { timeUnixNano: 1_700_000_000_000_100_000n, name: 'cache miss', attributes: [{ key: 'key', value: 'cart:42' }], droppedAttributesCount: 0 },
    ]);
    // The only reference is the CHILD_OF parent: no links.
    expect(db).toMatchObject({ parentSpanId: '00f067aa0ba902b7', kind: SpanKind.CLIENT, links: [] });
    expect(getAttr(db!.attributes, 'db.rows')).toBe(3n);
  });

  it('types tags, maps status, kind, tracestate, scope and links', () => {
    const td = decode(
      spanOf({
        traceIdHigh: 0n,
        traceIdLow: 0xabcn,
        parentSpanId: 0n,
        references: [
          { refType: 0, traceIdHigh: 0n, traceIdLow: 0xabcn, spanId: 0x77n }, // inferred parent
          { refType: 1, traceIdHigh: 5n, traceIdLow: 6n, spanId: 0x99n }, // another trace: a link
        ],
        tags: [
          { key: 'span.kind', vStr: 'producer' },
          { key: 'error', vBool: true },
          { key: 'otel.status_description', vStr: 'boom' },
          { key: 'otel.status_code', vStr: 'OK' }, // error wins, tag still consumed
          { key: 'w3c.tracestate', vStr: 'rojo=00f067aa0ba902b7' },
          { key: 'otel.scope.name', vStr: 'my-lib' },
          { key: 'otel.scope.version', vStr: '1.2.3' },
          { key: 'ratio', vDouble: 0.25 },
          { key: 'blob', vBinary: new Uint8Array([1, 2, 3]) },
          { key: 'neg', vLong: -42n },
        ],
      }),
    );
    const ss = only(td).scopeSpans[0]!;
    expect(ss.scope).toMatchObject({ name: 'my-lib', version: '1.2.3' });
    const s = ss.spans[0]!;
    expect(s.traceId).toBe('00000000000000000000000000000abc');
    expect(s.spanId).toBe('0000000000000003');
    expect(s.parentSpanId).toBe('0000000000000077');
    expect(s.kind).toBe(SpanKind.PRODUCER);
    expect(s.status).toEqual({ code: StatusCode.ERROR, message: 'boom' });
    expect(s.traceState).toBe('rojo=00f067aa0ba902b7');
    expect(s.attributes).toEqual([
      { key: 'ratio', value: 0.25 },
      { key: 'blob', value: new Uint8Array([1, 2, 3]) },
      { key: 'neg', value: -42n },
    ]);
    expect(s.links).toEqual([
      {
        traceId: '00000000000000050000000000000006',
        spanId: '0000000000000099',
        traceState: '',
        attributes: [{ key: 'opentracing.ref_type', value: 'follows_from' }],
        droppedAttributesCount: 0,
        flags: 0,
      },
    ]);
  });

  it.each([
    [{ key: 'http.status_code', vLong: 404n }, 'client', StatusCode.ERROR],
    [{ key: 'http.status_code', vLong: 404n }, 'server', StatusCode.UNSET],
    [{ key: 'http.status_code', vStr: '503' }, 'server', StatusCode.ERROR],
    [{ key: 'http.status_code', vLong: 200n }, 'client', StatusCode.UNSET],
    [{ key: 'otel.status_code', vStr: 'error' }, 'client', StatusCode.ERROR],
    [{ key: 'error', vStr: 'true' }, 'client', StatusCode.UNSET], // only a bool `error` tag counts
  ] as const)('status from %o on a %s span', (tag, kind, code) => {
    const s = only(decode(spanOf({ tags: [{ key: 'span.kind', vStr: kind }, tag] }))).scopeSpans[0]!.spans[0]!;
    expect(s.status.code).toBe(code);
  });
});

describe('jaeger thrift errors', () => {
  it('rejects truncated packets with ThriftDecodeError at every cut', () => {
    const full = emitBatchPacket('compact', sampleBatch());
    for (let n = 0; n < full.length; n += 7) {
      expect(() => readEmitBatch(new CompactReader(full.subarray(0, n)))).toThrow(ThriftDecodeError);
    }
  });
  it('rejects emitZipkinBatch and trailing garbage', () => {
    expect(() => readEmitBatch(new BinaryReader(Buffer.from('80010004000000', 'hex')))).toThrow(ThriftDecodeError);
    const body = Buffer.concat([batchBody(sampleBatch()), Buffer.from([1, 2])]);
    expect(() => readBatchBody(new BinaryReader(body))).toThrow(/unexpected bytes/);
  });
});

describe('jaeger api_v2 protobuf', async () => {
  const root = await new protobuf.Root().load(path.join(import.meta.dirname, 'testdata/collector.proto'), { keepCase: true });
  const Req = root.lookupType('jaeger.api_v2.PostSpansRequest');
  const id = (hex: string) => Buffer.from(hex, 'hex');
  const encode = (batch: object) => Req.encode(Req.fromObject({ batch })).finish();

  it('translates spans, span-level processes and typed tags', () => {
    const bytes = encode({
      process: { service_name: 'api', tags: [{ key: 'hostname', v_str: 'h1' }] },
      spans: [
        {
          trace_id: id(TRACE),
          span_id: id('00f067aa0ba902b7'),
          operation_name: 'GET /',
          references: [{ trace_id: id(TRACE), span_id: id('1111111111111111'), ref_type: 0 }],
          start_time: { seconds: 1_700_000_000, nanos: 5 },
          duration: { seconds: 0, nanos: 1500 },
          tags: [
            { key: 'span.kind', v_str: 'server' },
            { key: 'n', v_type: 2, v_int64: -7 },
            { key: 'b', v_type: 1, v_bool: true },
            { key: 'f', v_type: 3, v_float64: 1.5 },
            { key: 'otel.library.name', v_str: 'old-lib' },
          ],
          logs: [{ timestamp: { seconds: 1_700_000_000, nanos: 10 }, fields: [{ key: 'event', v_str: 'retry' }] }],
        },
        {
          trace_id: id(TRACE),
          span_id: id('2222222222222222'),
          operation_name: 'worker',
          process: { service_name: 'worker' },
        },
      ],
    });
    const td = jaegerToTraces([decodePostSpansRequest(bytes)]);
    expect(td.resourceSpans.map((rs) => rs.resource.attributes)).toEqual([
      [{ key: 'service.name', value: 'api' }, { key: 'host.name', value: 'h1' }],
      [{ key: 'service.name', value: 'worker' }],
    ]);
    const ss = td.resourceSpans[0]!.scopeSpans[0]!;
    expect(ss.scope.name).toBe('old-lib');
    const s = ss.spans[0]!;
    expect(s).toMatchObject({
      traceId: TRACE,
      parentSpanId: '1111111111111111',
      kind: SpanKind.SERVER,
      startTimeUnixNano: 1_700_000_000_000_000_005n,
      endTimeUnixNano: 1_700_000_000_000_001_505n,
      links: [],
    });
    expect(s.attributes).toEqual([
      { key: 'n', value: -7n },
      { key: 'b', value: true },
      { key: 'f', value: 1.5 },
    ]);
    expect(s.events[0]).toMatchObject({ name: 'retry', timeUnixNano: 1_700_000_000_000_000_010n, attributes: [] });
  });

  it('gives the same OTLP as thrift for the same spans', () => {
    const tb = sampleBatch(3);
    const hex64 = (v: bigint) => Buffer.from(BigInt.asUintN(64, v).toString(16).padStart(16, '0'), 'hex');
    const kv = (t: NonNullable<TSpan['tags']>[number]) =>
      'vStr' in t ? { key: t.key, v_str: t.vStr }
      : 'vLong' in t ? { key: t.key, v_type: 2, v_int64: Number(t.vLong) }
      : 'vBool' in t ? { key: t.key, v_type: 1, v_bool: t.vBool }
      : 'vDouble' in t ? { key: t.key, v_type: 3, v_float64: t.vDouble }
      : { key: t.key, v_type: 4, v_binary: t.vBinary };
    const ts = (us: bigint) => ({ seconds: Number(us / 1_000_000n), nanos: Number(us % 1_000_000n) * 1000 });
    const bytes = encode({
      process: { service_name: tb.process.serviceName, tags: tb.process.tags!.map(kv) },
      spans: tb.spans.map((s) => ({
        trace_id: Buffer.concat([hex64(s.traceIdHigh), hex64(s.traceIdLow)]),
        span_id: hex64(s.spanId),
        operation_name: s.operationName,
        references: (s.references ?? []).map((r) => ({ trace_id: Buffer.concat([hex64(r.traceIdHigh), hex64(r.traceIdLow)]), span_id: hex64(r.spanId), ref_type: r.refType })),
        flags: s.flags,
        start_time: ts(s.startTime),
        duration: ts(s.duration),
        tags: (s.tags ?? []).map(kv),
        logs: (s.logs ?? []).map((l) => ({ timestamp: ts(l.timestamp), fields: l.fields.map(kv) })),
      })),
    });
    const fromProto = jaegerToTraces([decodePostSpansRequest(bytes)]);
    expect(fromProto).toEqual(viaCompact(sampleBatch(3)));
    expect(fromProto).toEqual(viaHttp(sampleBatch(3)));
  });

  it('rejects malformed protobuf and wrong-size ids', () => {
    expect(() => decodePostSpansRequest(Buffer.from([0x0a, 0x05, 0x0a]))).toThrow(/invalid protobuf/);
    const bad = encode({ spans: [{ trace_id: id('abcd'), span_id: id('00f067aa0ba902b7') }] });
    expect(() => decodePostSpansRequest(bad)).toThrow(/trace_id must be 16 bytes/);
  });
});
