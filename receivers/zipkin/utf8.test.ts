/**
 * Zipkin and Jaeger translate to OTLP protobuf: whatever bytes a sender puts
 * in a string (invalid UTF-8, a lone surrogate escape in JSON), what they hand
 * on is valid UTF-8 (the bad bytes read as U+FFFD), so the OTLP scan and the
 * stores downstream never see invalid UTF-8 from them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TracesPayload } from '../../core/payload.ts';
import { decodeTracesProto } from '../../core/otlp/index.ts';
import { scanTracesProto } from '../../core/otlp/scan.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { RecordingConsumer, testLogger } from '../../test/helpers.ts';
import { JaegerReceiver } from '../jaeger/receiver.ts';
import { thriftHttpDefaults } from '../jaeger/config.ts';
import { batchBody, sampleBatch } from '../jaeger/testdata/thrift-encode.ts';
import { defaultZipkinConfig } from './config.ts';
import { ZipkinReceiver } from './receiver.ts';

/** The payload's protobuf bytes, as the stages behind would get them. */
function bytesOf(d: TracesPayload): Uint8Array {
  const parts = d.bytes();
  expect(parts).toBeDefined();
  return Buffer.concat(parts as Uint8Array[]);
}

function withBadBytes(body: Buffer, marker: string): Buffer {
  const out = Buffer.from(body);
  const at = out.indexOf(marker);
  expect(at).toBeGreaterThanOrEqual(0);
  out.set([0xff, 0xc3, 0x28, 0xed], at);
  return out;
}

describe('Zipkin and Jaeger hand on valid UTF-8 only', () => {
  const zSink = new RecordingConsumer();
  const jSink = new RecordingConsumer();
  const zipkin = new ZipkinReceiver({ id: 'zipkin', config: { ...defaultZipkinConfig(), endpoint: '127.0.0.1:0' }, logger: testLogger(), metrics: new MetricsRegistry() }, { traces: zSink });
  const jaeger = new JaegerReceiver(
    { id: 'jaeger', config: { protocols: { grpc: null, thrift_http: { ...thriftHttpDefaults(), endpoint: '127.0.0.1:0' }, thrift_compact: null, thrift_binary: null } }, logger: testLogger(), metrics: new MetricsRegistry() },
    { traces: jSink },
  );
  beforeAll(async () => {
    await zipkin.start();
    await jaeger.start();
  });
  afterAll(async () => {
    await zipkin.shutdown();
    await jaeger.shutdown();
  });

  it('Zipkin v2 JSON with invalid bytes and a lone surrogate in name, tags and service', async () => {
    const json = JSON.stringify([{
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736', id: '00f067aa0ba902b7', name: 'get QQQQ', timestamp: 1_700_000_000_000_000, duration: 10,
      localEndpoint: { serviceName: 'svc-\\ud800' }, tags: { 'http.path': '/RRRR', 'k\\udfff': 'v' },
    }]).replace(/\\\\u/g, '\\u');
    const body = withBadBytes(withBadBytes(Buffer.from(json), 'QQQQ'), 'RRRR');
    const res = await fetch(`http://${zipkin.address}/api/v2/spans`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: new Uint8Array(body) });
    expect(res.status).toBe(202);
    const bytes = bytesOf(zSink.tracePayloads.at(-1)!);
    expect(scanTracesProto(bytes)).toBe(1);
    const text = JSON.stringify(decodeTracesProto(bytes), (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v));
    expect(text).toContain('\uFFFD');
  });

  it('Jaeger thrift over HTTP with invalid bytes in the operation name and a tag', async () => {
    const batch = sampleBatch();
    batch.spans[0]!.operationName = 'GET QQQQ';
    batch.process.tags!.push({ key: 'RRRR', vStr: 'x' });
    const body = withBadBytes(withBadBytes(batchBody(batch), 'QQQQ'), 'RRRR');
    const res = await fetch(`http://${jaeger.http!.address}/api/traces`, { method: 'POST', headers: { 'content-type': 'application/x-thrift' }, body: new Uint8Array(body) });
    expect(res.status).toBe(202);
    const bytes = bytesOf(jSink.tracePayloads.at(-1)!);
    expect(scanTracesProto(bytes)).toBeGreaterThan(0);
    expect(decodeTracesProto(bytes).resourceSpans[0]!.scopeSpans[0]!.spans[0]!.name).toContain('\uFFFD');
  });
});
