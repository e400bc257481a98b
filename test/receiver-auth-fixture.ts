/**
 * Every HTTP and gRPC receiver server (OTLP gRPC + HTTP, Zipkin, Jaeger gRPC
 * + thrift_http) started with `auth` on a real bearertokenauth extension, for
 * the auth tests: what reached the pipeline, what was logged, counted and
 * raised as security events.
 */
import * as grpc from '@grpc/grpc-js';
import { connect } from 'node:net';
import type { Factory } from '../core/component.ts';
import { onSecurityEvent, type SecurityEvent } from '../core/security-events.ts';
import { MetricsRegistry } from '../core/telemetry/metrics.ts';
import { BearerTokenAuthExtension, bearerTokenAuthFactory, type BearerTokenAuthConfig } from '../extensions/bearertokenauth/index.ts';
import type { JaegerReceiver } from '../receivers/jaeger/index.ts';
import { jaegerFactory } from '../receivers/jaeger/index.ts';
import { otlpFactory } from '../receivers/otlp/index.ts';
import type { OtlpReceiver } from '../receivers/otlp/otlp.ts';
import type { ZipkinReceiver} from '../receivers/zipkin/index.ts';
import { zipkinFactory } from '../receivers/zipkin/index.ts';
import { settingsFor } from './component-config.ts';
import { RecordingConsumer, testHost, testLogger } from './helpers.ts';

export const TOKEN = 's3cret-token-A';
export const SUBJECT = 'tenant-a';

export interface AuthFixture {
  sink: RecordingConsumer;
  metrics: MetricsRegistry;
  /** Every log line of the receivers and the extension. */
  lines: string[];
  events: SecurityEvent[];
  otlp: OtlpReceiver;
  zipkin: ZipkinReceiver;
  jaeger: JaegerReceiver;
  stop(): Promise<void>;
}

export async function startAuthFixture(bytesOnly = false): Promise<AuthFixture> {
  const lines: string[] = [];
  const metrics = new MetricsRegistry();
  const opts = { logger: testLogger(lines), metrics };
  const events: SecurityEvent[] = [];
  const unsubscribe = onSecurityEvent((e) => events.push(e));
  const ext = new BearerTokenAuthExtension(settingsFor<BearerTokenAuthConfig>(bearerTokenAuthFactory as Factory, { tokens: [{ token: TOKEN, subject: SUBJECT }] }, { ...opts, id: 'bearertokenauth' }));
  await ext.start();
  const host = testHost({ bearertokenauth: ext });
  const sink = new RecordingConsumer();
  const next = { logs: sink, traces: sink, bytesOnly: { logs: bytesOnly, traces: bytesOnly } };
  const auth = { authenticator: 'bearertokenauth' };
  const srv = { endpoint: '127.0.0.1:0', auth, include_metadata: true };
  const otlp = otlpFactory.create(settingsFor(otlpFactory as Factory, { protocols: { grpc: srv, http: srv } }, { ...opts, id: 'otlp' }), next) as OtlpReceiver;
  const zipkin = zipkinFactory.create(settingsFor(zipkinFactory as Factory, srv, { ...opts, id: 'zipkin' }), next) as ZipkinReceiver;
  const jaeger = jaegerFactory.create(settingsFor(jaegerFactory as Factory, { protocols: { grpc: srv, thrift_http: srv } }, { ...opts, id: 'jaeger' }), next) as JaegerReceiver;
  for (const r of [otlp, zipkin, jaeger]) await r.start(host);
  return {
    sink,
    metrics,
    lines,
    events,
    otlp,
    zipkin,
    jaeger,
    stop: async () => {
      unsubscribe();
      await Promise.all([otlp.shutdown(), zipkin.shutdown(), jaeger.shutdown()]);
      await ext.shutdown();
    },
  };
}

export interface RawResponse {
  status: number;
  /** The status line and headers as received. */
  head: string;
  body: string;
}

/**
 * One HTTP/1.1 request written byte for byte on a socket (curl-style: any
 * header, repeated headers, non-UTF-8 bytes); `Connection: close` is added.
 */
export function rawRequest(address: string, method: string, path: string, headers: Array<string | Buffer>, body: Buffer = Buffer.alloc(0)): Promise<RawResponse> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const crlf = Buffer.from('\r\n');
  const head = Buffer.concat([
    Buffer.from(`${method} ${path} HTTP/1.1\r\nHost: trailhouse\r\nContent-Length: ${body.length}\r\nConnection: close\r\n`),
    ...headers.flatMap((h) => [typeof h === 'string' ? Buffer.from(h, 'latin1') : h, crlf]),
    crlf,
  ]);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const s = connect(port, host, () => s.end(Buffer.concat([head, body])));
    s.on('data', (c: Buffer) => chunks.push(c));
    s.on('error', reject);
    s.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const i = text.indexOf('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), head: text.slice(0, i), body: text.slice(i + 4) });
    });
  });
}

/** A unary call of raw bytes with metadata; resolves with the error (null on success). */
export function grpcCall(address: string, path: string, body: Uint8Array, metadata: Record<string, string | string[]> = {}): Promise<grpc.ServiceError | null> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const md = new grpc.Metadata();
  for (const [k, v] of Object.entries(metadata)) for (const x of Array.isArray(v) ? v : [v]) md.add(k, x);
  return new Promise<grpc.ServiceError | null>((resolve) =>
    client.makeUnaryRequest(path, (b: Uint8Array) => Buffer.from(b), (b: Buffer) => b, body, md, (err) => resolve(err)),
  ).finally(() => client.close());
}
