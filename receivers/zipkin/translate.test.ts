/**
 * Zipkin v2 (JSON, proto3) and v1 (JSON, thrift) decoding + translation,
 * checked field by field against the Collector's zipkin translator rules.
 */
import { describe, expect, it } from 'vitest';
import path from 'node:path';
import protobuf from 'protobufjs';
import { getAttr, SpanKind, StatusCode } from '../../core/model.ts';
import { decodeV1Json } from './v1-json.ts';
import { decodeV1Thrift } from './v1-thrift.ts';
import { zipkinV1ToTraces } from './v1-translate.ts';
import { decodeV2Json } from './v2-json.ts';
import { decodeV2Proto } from './v2-proto.ts';
import { zipkinV2ToTraces } from './v2-translate.ts';
import { v1ThriftBody } from './testdata/v1-thrift-encode.ts';

const opts = { parseStringTags: false };
const v2 = (spans: unknown[], o = opts) => zipkinV2ToTraces(decodeV2Json(Buffer.from(JSON.stringify(spans))), o);

const base = {
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  id: '00f067aa0ba902b7',
  name: 'get /api',
  timestamp: 1_700_000_000_000_000,
  duration: 1500,
  localEndpoint: { serviceName: 'frontend', ipv4: '10.0.0.1', port: 8080 },
};

describe('zipkin v2 JSON', () => {
  it('translates ids, kind, times, endpoints, tags and annotations', () => {
    const td = v2([
      {
        ...base,
        parentId: 'a',
        kind: 'CLIENT',
        remoteEndpoint: { serviceName: 'backend', ipv6: '2001:db8:0:0:0:0:0:1', port: 9000 },
        annotations: [{ timestamp: 1_700_000_000_000_100, value: 'retry' }],
        tags: { 'http.method': 'GET', 'http.status_code': '200', 'host.name': 'web-1', 'otel.library.name': 'lib', 'otel.library.version': '2' },
      },
    ]);
    expect(td.resourceSpans).toHaveLength(1);
    const rs = td.resourceSpans[0]!;
    expect(rs.resource.attributes).toEqual([
      { key: 'service.name', value: 'frontend' },
      { key: 'host.name', value: 'web-1' },
    ]);
    expect(rs.scopeSpans[0]!.scope).toMatchObject({ name: 'lib', version: '2' });
    const s = rs.scopeSpans[0]!.spans[0]!;
    expect(s).toMatchObject({
      traceId: base.traceId,
      spanId: base.id,
      parentSpanId: '000000000000000a',
      name: 'get /api',
      kind: SpanKind.CLIENT,
      startTimeUnixNano: 1_700_000_000_000_000_000n,
      endTimeUnixNano: 1_700_000_000_001_500_000n,
      status: { code: StatusCode.UNSET, message: '' },
    });
    expect(s.attributes).toEqual([
      { key: 'http.method', value: 'GET' },
      { key: 'http.status_code', value: '200' },
      { key: 'network.local.address', value: '10.0.0.1' },
      { key: 'net.host.port', value: 8080n },
      { key: 'service.peer.name', value: 'backend' },
      { key: 'network.peer.address', value: '2001:db8::1' },
      { key: 'net.peer.port', value: 9000n },
    ]);
    expect(s.events).toEqual([{ timeUnixNano: 1_700_000_000_000_100_000n, name: 'retry', attributes: [], droppedAttributesCount: 0 }]);
  });

  it('pads 64-bit trace ids, drops a self-parent, reads status/tracestate/links/typed events', () => {
    const s = v2([
      {
        ...base,
        traceId: 'ABC',
        parentId: base.id,
        tags: {
          'otel.status_code': 'STATUS_CODE_ERROR',
          'otel.status_description': 'bad',
          'w3c.tracestate': 'a=b',
          'span.kind': 'internal',
          'otlp.link.0': '0af7651916cd43dd8448eb211c80319c|b7ad6b7169203331|k=v|{"n":1,"f":1.5,"s":"x","b":true}|2',
        },
        annotations: [{ timestamp: 5, value: 'exception|{"exception.type":"E","count":3}|1' }],
      },
    ]).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(s.traceId).toBe('00000000000000000000000000000abc');
    expect(s.parentSpanId).toBe('');
    expect(s.kind).toBe(SpanKind.INTERNAL);
    expect(s.status).toEqual({ code: StatusCode.ERROR, message: 'bad' });
    expect(s.traceState).toBe('a=b');
    expect(s.links).toEqual([
      {
        traceId: '0af7651916cd43dd8448eb211c80319c',
        spanId: 'b7ad6b7169203331',
        traceState: 'k=v',
        attributes: [
          { key: 'n', value: 1n },
          { key: 'f', value: 1.5 },
          { key: 's', value: 'x' },
          { key: 'b', value: true },
        ],
        droppedAttributesCount: 2,
        flags: 0,
      },
    ]);
    expect(s.events[0]).toEqual({
      timeUnixNano: 5000n,
      name: 'exception',
      attributes: [
        { key: 'exception.type', value: 'E' },
        { key: 'count', value: 3n },
      ],
      droppedAttributesCount: 1,
    });
    expect(s.attributes.map((a) => a.key)).toEqual(['network.local.address', 'net.host.port']);
  });

  it.each([
    [{ 'otel.status_code': 'ERROR' }, StatusCode.ERROR, true], // the OTel SDK exporters' spelling
    [{ 'otel.status_code': 'Ok' }, StatusCode.OK, true],
    [{ error: 'true' }, StatusCode.ERROR, false],
    [{ error: 'timeout' }, StatusCode.ERROR, true], // kept as an attribute
    [{}, StatusCode.UNSET, false],
  ])('status from tags %o', (tags, code, keepsError) => {
    const s = v2([{ ...base, tags }]).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(s.status.code).toBe(code);
    expect(getAttr(s.attributes, 'error') !== undefined).toBe(keepsError && 'error' in tags);
  });

  it('reads names of Object.prototype members as unknown kinds and status codes', () => {
    const s = v2([{ ...base, kind: 'constructor', tags: { 'span.kind': 'internal', 'otel.status_code': 'toString' } }]).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(s.kind).toBe(SpanKind.INTERNAL);
    expect(s.status.code).toBe(StatusCode.UNSET);
    expect(s.attributes.map((a) => a.key)).toEqual(['network.local.address', 'net.host.port']);
  });

  it('translates a span without tags, and times beyond 2^32 ms exactly', () => {
    const s = v2([{ ...base, timestamp: 4_102_444_800_123_457, duration: 999_999, tags: undefined }]).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(s.startTimeUnixNano).toBe(4_102_444_800_123_457_000n);
    expect(s.endTimeUnixNano).toBe(4_102_444_801_123_456_000n);
  });

  it('groups by service then library, flags an absent start, parses string tags when asked', () => {
    const td = v2(
      [
        { ...base, id: '1', localEndpoint: { serviceName: 'b' }, tags: { n: '42', d: '1.5', t: 'true', s: 'x' } },
        { ...base, id: '2', localEndpoint: { serviceName: 'a' }, timestamp: undefined },
        { ...base, id: '3', localEndpoint: { serviceName: 'b' }, tags: { 'otel.library.name': 'l2' } },
        { ...base, id: '4' },
      ],
      { parseStringTags: true },
    );
    expect(td.resourceSpans.map((r) => getAttr(r.resource.attributes, 'service.name'))).toEqual(['a', 'b', 'frontend']);
    expect(td.resourceSpans[1]!.scopeSpans.map((s) => s.scope.name)).toEqual(['', 'l2']);
    const absent = td.resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(absent).toMatchObject({ startTimeUnixNano: 0n, endTimeUnixNano: 1_500_000n });
    expect(getAttr(absent.attributes, 'otel.zipkin.absentField.startTime')).toBe(true);
    const typed = td.resourceSpans[1]!.scopeSpans[0]!.spans[0]!;
    expect([getAttr(typed.attributes, 'n'), getAttr(typed.attributes, 'd'), getAttr(typed.attributes, 't'), getAttr(typed.attributes, 's')]).toEqual([42n, 1.5, true, 'x']);
  });

  it.each([
    ['not json', /invalid JSON/],
    ['{"a":1}', /expected a JSON array/],
    [JSON.stringify([{ ...base, traceId: 'xyz' }]), /traceId/],
    [JSON.stringify([{ ...base, id: '0000' }]), /valid span id required/],
    [JSON.stringify([{ ...base, tags: { n: 1 } }]), /tag values must be strings/],
    [JSON.stringify([{ ...base, timestamp: -1 }]), /non-negative integer/],
    [JSON.stringify([{ ...base, annotations: [{ value: 'x' }] }]), /annotation timestamp required/],
    [JSON.stringify([{ ...base, localEndpoint: { ipv4: '999.1.1.1' } }]), /invalid IP/],
  ])('rejects %s', (body, err) => {
    expect(() => decodeV2Json(Buffer.from(body))).toThrow(err);
  });
});

describe('zipkin v2 protobuf', async () => {
  const root = await new protobuf.Root().load(path.join(import.meta.dirname, 'testdata/zipkin.proto'), { keepCase: true });
  const List = root.lookupType('zipkin.proto3.ListOfSpans');
  const hex = (h: string) => Buffer.from(h, 'hex');
  const encode = (spans: object[]) => List.encode(List.fromObject({ spans })).finish();

  it('translates the same span the same way as JSON', () => {
    const bytes = encode([
      {
        trace_id: hex('4bf92f3577b34da6a3ce929d0e0e4736'),
        id: hex('00f067aa0ba902b7'),
        parent_id: hex('000000000000000a'),
        kind: 'SERVER',
        name: 'get /api',
        timestamp: 1_700_000_000_000_000,
        duration: 1500,
        local_endpoint: { service_name: 'frontend', ipv4: Buffer.from([10, 0, 0, 1]), port: 8080 },
        remote_endpoint: { ipv6: hex('20010db8000000000000000000000001') },
        annotations: [{ timestamp: 1_700_000_000_000_100, value: 'retry' }],
        tags: { 'http.method': 'GET' },
      },
    ]);
    const fromProto = zipkinV2ToTraces(decodeV2Proto(bytes), opts);
    const fromJson = v2([
      {
        ...base,
        parentId: '000000000000000a',
        kind: 'SERVER',
        remoteEndpoint: { ipv6: '2001:db8::1' },
        annotations: [{ timestamp: 1_700_000_000_000_100, value: 'retry' }],
        tags: { 'http.method': 'GET' },
      },
    ]);
    expect(fromProto).toEqual(fromJson);
    expect(fromProto.resourceSpans[0]!.scopeSpans[0]!.spans[0]!.kind).toBe(SpanKind.SERVER);
  });

  it('rejects bad protobuf and bad ids', () => {
    expect(() => decodeV2Proto(Buffer.from([0x0a, 0x20, 0x01]))).toThrow(/invalid protobuf/);
    expect(() => decodeV2Proto(encode([{ trace_id: hex('01'), id: hex('0102') }]))).toThrow(/id must be 8 bytes/);
    expect(() => decodeV2Proto(encode([{ id: hex('0102030405060708') }]))).toThrow(/trace_id must be 1 to 16 bytes/);
  });
});

describe('zipkin v1', () => {
  const ep = { serviceName: 'svc', ipv4: '10.0.0.2', port: 80 };
  const v1json = [
    {
      traceId: '4bf92f3577b34da6',
      id: '00f067aa0ba902b7',
      parentId: '1111111111111111',
      name: 'get',
      timestamp: 1_000,
      duration: 500,
      annotations: [
        { timestamp: 1_000, value: 'sr', endpoint: ep },
        { timestamp: 1_200, value: 'cache.miss', endpoint: ep },
        { timestamp: 1_500, value: 'ss', endpoint: ep },
      ],
      binaryAnnotations: [
        { key: 'http.status_code', value: '503', endpoint: ep },
        { key: 'lc', value: 'jdbc', endpoint: ep },
        { key: 'sa', value: true, endpoint: { serviceName: 'db' } },
      ],
    },
  ];

  it('translates JSON: kind from annotations, endpoint resource, http status, events', () => {
    const td = zipkinV1ToTraces(decodeV1Json(Buffer.from(JSON.stringify(v1json)), false));
    const rs = td.resourceSpans[0]!;
    expect(rs.resource.attributes).toEqual([
      { key: 'service.name', value: 'svc' },
      { key: 'ipv4', value: '10.0.0.2' },
      { key: 'port', value: '80' },
    ]);
    const s = rs.scopeSpans[0]!.spans[0]!;
    expect(s).toMatchObject({
      traceId: '00000000000000004bf92f3577b34da6',
      spanId: '00f067aa0ba902b7',
      parentSpanId: '1111111111111111',
      kind: SpanKind.SERVER,
      startTimeUnixNano: 1_000_000n,
      endTimeUnixNano: 1_500_000n,
      status: { code: StatusCode.ERROR, message: '' },
    });
    expect(s.events).toEqual([{ timeUnixNano: 1_200_000n, name: 'cache.miss', attributes: [], droppedAttributesCount: 0 }]);
    expect(s.attributes).toEqual([
      { key: 'http.status_code', value: '503' },
      { key: 'component', value: 'jdbc' },
      { key: 'sa', value: 'true' },
    ]);
  });

  it('translates thrift the same way, with typed binary annotations', () => {
    const u16 = Buffer.from([0x01, 0xf7]); // 503
    const body = v1ThriftBody([
      {
        traceId: 0x4bf92f3577b34da6n,
        id: 0x00f067aa0ba902b7n,
        parentId: 0x1111111111111111n,
        name: 'get',
        timestamp: 1_000n,
        duration: 500n,
        annotations: [
          { timestamp: 1_000n, value: 'sr', host: { serviceName: 'svc', ipv4: 0x0a000002, port: 80 } },
          { timestamp: 1_200n, value: 'cache.miss', host: { serviceName: 'svc', ipv4: 0x0a000002, port: 80 } },
          { timestamp: 1_500n, value: 'ss', host: { serviceName: 'svc', ipv4: 0x0a000002, port: 80 } },
        ],
        binaryAnnotations: [
          { key: 'http.status_code', value: u16, type: 2 },
          { key: 'ok', value: Buffer.from([1]), type: 0 },
          { key: 'ratio', value: Buffer.from(new Float64Array([0.5]).buffer).reverse(), type: 5 },
          { key: 'lc', value: Buffer.from('jdbc'), type: 6 },
        ],
      },
    ]);
    const s = zipkinV1ToTraces(decodeV1Thrift(body)).resourceSpans[0]!.scopeSpans[0]!.spans[0]!;
    expect(s).toMatchObject({ kind: SpanKind.SERVER, startTimeUnixNano: 1_000_000n, status: { code: StatusCode.ERROR } });
    expect(s.attributes).toEqual([
      { key: 'http.status_code', value: 503n },
      { key: 'ok', value: true },
      { key: 'ratio', value: 0.5 },
      { key: 'component', value: 'jdbc' },
    ]);
    expect(() => decodeV1Thrift(body.subarray(0, body.length - 3))).toThrow(/truncated/);
  });

  it('rejects bad v1 ids', () => {
    const bad = [{ ...v1json[0], traceId: '123' }];
    expect(() => decodeV1Json(Buffer.from(JSON.stringify(bad)), false)).toThrow(/traceId/);
  });
});
