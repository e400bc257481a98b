/**
 * The receive bounds hold on the Zipkin and Jaeger HTTP listeners too (they
 * share core/net.ts serveHttp and core/http-body.ts readBody with OTLP): a
 * body that stops arriving is 408, a client over its in-flight share 429, a
 * request of too many spans 413.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { RecordingConsumer, testLogger, waitFor } from '../../test/helpers.ts';
import { halfSentPost, postFrom } from '../../test/hostile-clients.ts';
import { receivingBytes } from '../../core/inflight.ts';
import { JaegerReceiver } from '../jaeger/receiver.ts';
import { thriftHttpDefaults } from '../jaeger/config.ts';
import { batchBody, sampleBatch } from '../jaeger/testdata/thrift-encode.ts';
import { defaultZipkinConfig } from './config.ts';
import { ZipkinReceiver } from './receiver.ts';

const KiB = 1024;
const bounds = { body_idle_timeout: 300, max_inflight_bytes_per_client: 256 * KiB, max_inflight_bytes: 1024 * KiB, max_records_per_request: 2 };

const span = (i: number) => ({ traceId: '4bf92f3577b34da6a3ce929d0e0e4736', id: `00f067aa0ba902b${i}`, name: 'get', timestamp: 1_700_000_000_000_000, duration: 10, localEndpoint: { serviceName: 'svc' } });

describe('receive bounds on the Zipkin and Jaeger HTTP listeners', () => {
  const sink = new RecordingConsumer();
  const zipkin = new ZipkinReceiver({ id: 'zipkin', config: { ...defaultZipkinConfig(), endpoint: '127.0.0.1:0', ...bounds }, logger: testLogger(), metrics: new MetricsRegistry() }, { traces: sink });
  const jaeger = new JaegerReceiver(
    { id: 'jaeger', config: { protocols: { grpc: null, thrift_http: { ...thriftHttpDefaults(), endpoint: '127.0.0.1:0', ...bounds }, thrift_compact: null, thrift_binary: null } }, logger: testLogger(), metrics: new MetricsRegistry() },
    { traces: sink },
  );
  beforeAll(async () => {
    await zipkin.start();
    await jaeger.start();
  });
  afterAll(async () => {
    await zipkin.shutdown();
    await jaeger.shutdown();
  });

  it('a half-sent body is dropped with 408 (Zipkin, Jaeger)', async () => {
    for (const [address, path, type] of [[zipkin.address, '/api/v2/spans', 'application/json'], [jaeger.http!.address, '/api/traces', 'application/x-thrift']] as const) {
      const hog = await halfSentPost(address, path, 100 * KiB, 10 * KiB, '127.0.0.1', type);
      expect(await hog.answer, path).toMatchObject({ status: 408 });
      hog.socket.destroy();
    }
    await waitFor(() => receivingBytes() === 0, 2000, 'bytes given back');
  });

  it('a client over its in-flight share gets 429 + Retry-After; another client gets 202', async () => {
    const first = await halfSentPost(zipkin.address, '/api/v2/spans', 400 * KiB, 200 * KiB, '127.0.0.1', 'application/json');
    await waitFor(() => receivingBytes() >= 200 * KiB, 2000, 'first body held');
    const second = await halfSentPost(zipkin.address, '/api/v2/spans', 400 * KiB, 100 * KiB, '127.0.0.1', 'application/json');
    expect(await second.answer).toMatchObject({ status: 429, headers: { 'retry-after': '5' } });
    const other = await postFrom(zipkin.address, '/api/v2/spans', Buffer.from(JSON.stringify([span(1)])), '127.0.0.2', 'application/json');
    expect(other.status).toBe(202);
    first.socket.destroy();
    second.socket.destroy();
  });

  it('more than max_records_per_request spans is 413 (Zipkin JSON, Jaeger Thrift)', async () => {
    const z = await postFrom(zipkin.address, '/api/v2/spans', Buffer.from(JSON.stringify([span(1), span(2), span(3)])), '127.0.0.1', 'application/json');
    expect(z.status).toBe(413);
    expect(z.body).toMatch(/max_records_per_request 2/);
    const batch = sampleBatch();
    batch.spans.push(...sampleBatch(1).spans);
    expect(batch.spans.length).toBeGreaterThan(2);
    const j = await postFrom(jaeger.http!.address, '/api/traces', batchBody(batch), '127.0.0.1', 'application/x-thrift');
    expect(j.status).toBe(413);
  });
});
