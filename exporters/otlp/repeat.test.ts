/**
 * A batch whose answer is lost is not stored twice: the otlp and otlphttp
 * exporters send their batch token (x-trailhouse-dedup-token); a proxy
 * between them and trailhouse's OTLP receiver cuts the connection right
 * after the receiver took the batch, so the exporter, not knowing, sends it
 * again; the receiver answers the repeat as accepted without passing it on.
 */
import * as grpc from '@grpc/grpc-js';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Factory } from '../../core/component.ts';
import { Payload } from '../../core/payload.ts';
import { encodeLogsProto } from '../../core/otlp/logs-proto.ts';
import { DEDUP_HEADER } from '../../core/repeats.ts';
import { settingsFor } from '../../test/component-config.ts';
import { sampleLogs, testHost } from '../../test/helpers.ts';
import { startAuthFixture, TOKEN, type AuthFixture } from '../../test/receiver-auth-fixture.ts';
import { BearerTokenAuthExtension, bearerTokenAuthFactory, type BearerTokenAuthConfig } from '../../extensions/bearertokenauth/index.ts';
import type { ExporterHelper } from '../../core/exporter-helper.ts';
import { otlpExporterFactory } from './index.ts';
import { otlpHttpExporterFactory } from '../otlphttp/index.ts';

let fx: AuthFixture;
let auth: BearerTokenAuthExtension;

/** Forwards to `target`; while armed, the first answer after the sink got a new payload is dropped with the connection. */
async function cuttingProxy(target: string, sinkSize: () => number): Promise<{ address: string; arm(): void; cuts: number; close(): Promise<void> }> {
  const [host, port] = [target.slice(0, target.lastIndexOf(':')), Number(target.slice(target.lastIndexOf(':') + 1))];
  const sockets = new Set<Socket>();
  const state = { armedAt: -1, cuts: 0 };
  const server: Server = createServer((client) => {
    const upstream = connect(port, host);
    sockets.add(client).add(upstream);
    client.pipe(upstream);
    upstream.on('data', (chunk: Buffer) => {
      if (state.armedAt >= 0 && sinkSize() > state.armedAt) {
        state.armedAt = -1;
        state.cuts++;
        client.destroy();
        upstream.destroy();
        return;
      }
      client.write(chunk);
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('error', end).on('close', end);
    upstream.on('error', end).on('close', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const a = server.address() as { port: number };
  return {
    address: `127.0.0.1:${a.port}`,
    arm: () => void (state.armedAt = sinkSize()),
    get cuts() {
      return state.cuts;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

beforeAll(async () => {
  fx = await startAuthFixture(true);
  auth = new BearerTokenAuthExtension(settingsFor<BearerTokenAuthConfig>(bearerTokenAuthFactory as Factory, { token: TOKEN }, { id: 'bearertokenauth/client' }));
});
afterAll(async () => fx.stop());

describe.each(['grpc', 'http'] as const)('%s: an answer lost after the receiver took the batch', (kind) => {
  it('the exporter sends it again with its token and the receiver passes it on once', async () => {
    const target = kind === 'grpc' ? fx.otlp.grpc!.address : fx.otlp.http!.address;
    const proxy = await cuttingProxy(target, () => fx.sink.logPayloads.length);
    const common = { tls: { insecure: true }, auth: { authenticator: 'bearertokenauth/client' }, sending_queue: { enabled: false }, retry_on_failure: { initial_interval: '10ms', max_interval: '50ms' } };
    const exp = (kind === 'grpc'
      ? otlpExporterFactory.create(settingsFor(otlpExporterFactory as Factory, { endpoint: proxy.address, ...common }, { id: 'otlp' }))
      : otlpHttpExporterFactory.create(settingsFor(otlpHttpExporterFactory as Factory, { endpoint: `http://${proxy.address}`, ...common }, { id: 'otlphttp' }))) as ExporterHelper;
    await exp.start(testHost({ 'bearertokenauth/client': auth }));
    const repeatedBefore = fx.metrics.read('trailhouse_receiver_repeated_requests', { receiver: 'otlp' });
    try {
      // A first batch through an intact connection (gRPC's connection set up).
      await exp.consumeLogs(Payload.ofBytes('logs', [encodeLogsProto(sampleLogs(2, 'warm'))], 2));
      const before = fx.sink.logPayloads.length;
      proxy.arm();
      await exp.consumeLogs(Payload.ofBytes('logs', [encodeLogsProto(sampleLogs(3, 'agent'))], 3));
      expect(proxy.cuts).toBe(1);
      // Taken once: the retry was answered as a repeat.
      expect(fx.sink.logPayloads.length - before).toBe(1);
      fx.metrics.exposition();
      expect(fx.metrics.read('trailhouse_receiver_repeated_requests', { receiver: 'otlp' }) - repeatedBefore).toBe(1);
      // A new batch is new data, through the same connection.
      await exp.consumeLogs(Payload.ofBytes('logs', [encodeLogsProto(sampleLogs(1, 'next'))], 1));
      expect(fx.sink.logPayloads.length - before).toBe(2);
    } finally {
      await exp.shutdown();
      await proxy.close();
    }
  });
});

describe('the token on the wire', () => {
  const post = (headers: Record<string, string | string[]>) =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      // node:http to send a header twice (fetch would join the values).
      import('node:http').then(({ request }) => {
        const body = encodeLogsProto(sampleLogs(1));
        const req = request(`http://${fx.otlp.http!.address}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf', authorization: `Bearer ${TOKEN}`, ...headers } }, (res) => {
          let s = '';
          res.on('data', (c: Buffer) => (s += c.toString('latin1'))).on('end', () => resolve({ status: res.statusCode ?? 0, body: s }));
        });
        req.on('error', reject);
        req.end(body);
      }, reject);
    });

  it('a malformed or doubled token is refused with 400 and the reason, and nothing is passed on', async () => {
    const before = fx.sink.logPayloads.length;
    for (const bad of ['a b', 'x'.repeat(300), ['t1', 't2']]) {
      const r = await post({ [DEDUP_HEADER]: bad });
      expect(r.status).toBe(400);
      expect(r.body).toContain(DEDUP_HEADER);
    }
    expect(fx.sink.logPayloads.length).toBe(before);
  });

  it('over gRPC, a malformed or doubled token is INVALID_ARGUMENT with the reason', async () => {
    const client = new grpc.Client(fx.otlp.grpc!.address, grpc.credentials.createInsecure());
    const call = (md: grpc.Metadata) =>
      new Promise<grpc.ServiceError | null>((resolve) => {
        client.makeUnaryRequest('/opentelemetry.proto.collector.logs.v1.LogsService/Export', (b: Buffer) => b, (b: Buffer) => b, Buffer.from(encodeLogsProto(sampleLogs(1))), md, (err) => resolve(err));
      });
    const before = fx.sink.logPayloads.length;
    try {
      for (const values of [['a b'], ['t1', 't2'], ['x'.repeat(300)]]) {
        const md = new grpc.Metadata();
        md.set('authorization', `Bearer ${TOKEN}`);
        for (const v of values) md.add(DEDUP_HEADER, v);
        const err = await call(md);
        expect(err?.code).toBe(grpc.status.INVALID_ARGUMENT);
        expect(err?.details).toContain(DEDUP_HEADER);
      }
    } finally {
      client.close();
    }
    expect(fx.sink.logPayloads.length).toBe(before);
  });

  it('requests without a token are all passed on, as any OTLP sender expects', async () => {
    const before = fx.sink.logPayloads.length;
    expect((await post({})).status).toBe(200);
    expect((await post({})).status).toBe(200);
    expect(fx.sink.logPayloads.length - before).toBe(2);
  });
});
