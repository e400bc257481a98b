/**
 * The loki receiver over real HTTP: Promtail's wire format (push.proto
 * encoded by protobufjs, snappy block-compressed), Loki's JSON (plain and
 * gzip), tenant and structured metadata, classification of Envoy/Istio lines,
 * and every error status, after which the receiver still serves.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import protobuf from 'protobufjs';
import { compressSync } from 'snappy';
import { metadataValues } from '../../core/client.ts';
import { RefusedError } from '../../core/errors.ts';
import { getAttr } from '../../core/model.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { RecordingConsumer, testLogger } from '../../test/helpers.ts';
import { ENVOY_JSON_LINE, ISTIO_TEXT_LINE, expectEnvoyJsonClassified, expectIstioTextClassified } from '../../test/shipper-classify.ts';
import { defaultLokiConfig, lokiHttpDefaults, validateLoki } from './config.ts';
import { LokiReceiver } from './receiver.ts';

// Loki's pkg/push/push.proto (wire-compatible subset), as Promtail encodes it.
const root = protobuf.parse(`
syntax = "proto3";
message Timestamp { int64 seconds = 1; int32 nanos = 2; }
message LabelPairAdapter { string name = 1; string value = 2; }
message EntryAdapter { Timestamp timestamp = 1; string line = 2; repeated LabelPairAdapter structuredMetadata = 3; }
message StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
message PushRequest { repeated StreamAdapter streams = 1; }
`).root;
const PushRequest = root.lookupType('PushRequest');
const protoBody = (o: object) => compressSync(Buffer.from(PushRequest.encode(PushRequest.fromObject(o)).finish()));

describe('loki receiver', () => {
  const consumer = new RecordingConsumer();
  const metrics = new MetricsRegistry();
  const config = { ...defaultLokiConfig(), protocols: { http: { ...lokiHttpDefaults(), endpoint: '127.0.0.1:0', max_request_body_size: 64 * 1024, max_records_per_request: 100 }, grpc: null } };
  const receiver = new LokiReceiver({ id: 'loki', config, logger: testLogger(), metrics }, { logs: consumer });
  let url = '';
  const post = (body: Uint8Array | string, headers: Record<string, string>, path = '/loki/api/v1/push') =>
    fetch(`http://${receiver.address}${path}`, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });

  beforeAll(async () => {
    await receiver.start();
    url = `http://${receiver.address}/loki/api/v1/push`;
    expect(url).toMatch(/:\d+\//);
  });
  afterAll(() => receiver.shutdown());

  it('protobuf + snappy (Promtail): labels and structured metadata as attributes, entry time, tenant in client info', async () => {
    consumer.logPayloads = [];
    const body = protoBody({
      streams: [{
        labels: '{job="envoy", namespace="mesh", pod="a\\"b", __stream_shard__="1"}',
        entries: [
          { timestamp: { seconds: 1715677923, nanos: 456000000 }, line: 'hello', structuredMetadata: [{ name: 'trace_id', value: 'abc' }] },
          { timestamp: { seconds: 1715677924 }, line: 'world' },
        ],
      }],
    });
    const res = await post(body, { 'content-type': 'application/x-protobuf', 'x-scope-orgid': 'team-a' });
    expect(res.status).toBe(204);
    const [a, b] = consumer.logRecords;
    expect(a!.body).toBe('hello');
    expect(a!.timeUnixNano).toBe(1_715_677_923_456_000_000n);
    expect(a!.observedTimeUnixNano).toBeGreaterThan(0n);
    expect(a!.attributes).toEqual([
      { key: 'job', value: 'envoy' }, { key: 'namespace', value: 'mesh' }, { key: 'pod', value: 'a"b' }, { key: 'trace_id', value: 'abc' },
    ]);
    expect(b!.body).toBe('world');
    expect(getAttr(b!.attributes, 'trace_id')).toBeUndefined();
    const client = consumer.logPayloads[0]!.client!;
    expect(client.address).toBe('127.0.0.1');
    expect(metadataValues(client, 'X-Scope-OrgID')).toEqual(['team-a']);
    expect(metadataValues(client, 'content-type')).toEqual([]); // only the tenant without include_metadata
  });

  it('JSON, plain and gzip, with structured metadata; Envoy JSON and Istio text lines are classified as over OTLP', async () => {
    consumer.logPayloads = [];
    const doc = { streams: [{ stream: { app: 'istio-proxy', __internal: 'x' }, values: [['1715677923456000000', ENVOY_JSON_LINE, { cluster: 'east' }], ['1715677923456000001', ISTIO_TEXT_LINE]] }] };
    expect((await post(JSON.stringify(doc), { 'content-type': 'application/json' })).status).toBe(204);
    expect((await post(gzipSync(JSON.stringify(doc)), { 'content-type': 'application/json', 'content-encoding': 'gzip' })).status).toBe(204);
    const rs = consumer.logRecords;
    expect(rs).toHaveLength(4);
    expect(rs[0]!.body).toBe(ENVOY_JSON_LINE);
    expect(getAttr(rs[0]!.attributes, 'cluster')).toBe('east');
    expect(getAttr(rs[0]!.attributes, '__internal')).toBeUndefined();
    expect(getAttr(rs[0]!.attributes, 'response_code')).toBe(403n);
    expectEnvoyJsonClassified(rs[0]!);
    expectIstioTextClassified(rs[1]!);
    expectEnvoyJsonClassified(rs[2]!);
    expect(rs[1]!.timeUnixNano).toBe(1_715_677_923_456_000_001n);
  });

  it('refuses bad input with the status and reason, and goes on serving', async () => {
    const cases: [Uint8Array | string, Record<string, string>, number, RegExp, string?][] = [
      ['{', { 'content-type': 'application/json' }, 400, /not JSON/],
      ['{"streams":[{"labels":"{a=\\"b\\"}","entries":[]}]}', { 'content-type': 'application/json' }, 400, /legacy/],
      ['{"streams":[{"stream":{"a":"b"},"values":[[1,"x"]]}]}', { 'content-type': 'application/json' }, 400, /unix nanoseconds/],
      ['{"streams":[{"stream":{},"values":[]}]}', { 'content-type': 'application/json' }, 400, /no labels/],
      [protoBody({ streams: [{ labels: '{a=~"b"}', entries: [{ line: 'x' }] }] }), { 'content-type': 'application/x-protobuf' }, 400, /only equality/],
      [Buffer.from([0x05, 0xff, 0xff]), { 'content-type': 'application/x-protobuf' }, 400, /snappy/],
      [Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00]), { 'content-type': 'application/x-protobuf' }, 413, /over the limit/],
      [compressSync(Buffer.from([0x0a, 0x05, 0x0a])), { 'content-type': 'application/x-protobuf' }, 400, /overruns|invalid protobuf/],
      ['x', { 'content-type': 'text/plain' }, 415, /unsupported content type/],
      ['x', { 'content-type': 'application/json' }, 404, /unknown path/, '/api/prom/push'],
    ];
    for (const [body, headers, status, reason, path] of cases) {
      const res = await post(body, headers, path);
      expect(res.status, String(reason)).toBe(status);
      expect(await res.text()).toMatch(reason);
    }
    const many = { streams: [{ stream: { a: 'b' }, values: Array.from({ length: 101 }, (_, i) => [String(i), 'x']) }] };
    expect((await post(JSON.stringify(many), { 'content-type': 'application/json' })).status).toBe(413);
    expect((await fetch(url)).status).toBe(405);
    consumer.failWith = new RefusedError('memory limit reached', 'memory_limit', 4);
    const refused = await post(JSON.stringify({ streams: [{ stream: { a: 'b' }, values: [['1', 'x']] }] }), { 'content-type': 'application/json' });
    consumer.failWith = undefined;
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('4');
    expect((await post(JSON.stringify({ streams: [{ stream: { a: 'b' }, values: [['1', 'ok']] }] }), { 'content-type': 'application/json' })).status).toBe(204);
    expect(metrics.sum('otelcol_receiver_refused_log_records', { receiver: 'loki' })).toBe(102);
    expect(metrics.sum('otelcol_receiver_accepted_log_records', { receiver: 'loki' })).toBeGreaterThanOrEqual(7);
  });

  it('config: http required, grpc refused with the reason, non-loopback needs auth', () => {
    expect(validateLoki(defaultLokiConfig()).map((e) => e.path)).toEqual(['protocols']);
    expect(validateLoki({ ...defaultLokiConfig(), protocols: { http: lokiHttpDefaults(), grpc: { endpoint: ':3600' } } })[0]!.message).toMatch(/push over HTTP/);
    expect(validateLoki({ ...defaultLokiConfig(), protocols: { http: { ...lokiHttpDefaults(), endpoint: '0.0.0.0:3500' }, grpc: null } })[0]!.message).toMatch(/auth/);
  });
});

describe('loki receiver without use_incoming_timestamp (the Collector default)', () => {
  it('the record time is the receive time, as the Collector sets it', async () => {
    const consumer = new RecordingConsumer();
    const config = { use_incoming_timestamp: false, protocols: { http: { ...lokiHttpDefaults(), endpoint: '127.0.0.1:0' }, grpc: null } };
    const receiver = new LokiReceiver({ id: 'loki', config, logger: testLogger(), metrics: new MetricsRegistry() }, { logs: consumer });
    await receiver.start();
    try {
      const res = await fetch(`http://${receiver.address}/loki/api/v1/push`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"streams":[{"stream":{"a":"b"},"values":[["1","x"]]}]}' });
      expect(res.status).toBe(204);
      const [r] = consumer.logRecords;
      expect(r!.timeUnixNano).toBe(r!.observedTimeUnixNano);
      expect(r!.timeUnixNano).toBeGreaterThan(1_700_000_000_000_000_000n);
    } finally {
      await receiver.shutdown();
    }
  });
});
