/**
 * The otlp (gRPC) and otlphttp exporters against trailhouse's own OTLP
 * receiver, with a real bearertokenauth extension on both sides: records
 * arrive intact (protobuf bytes passed through, gzip, JSON), the token is
 * sent and checked, a wrong token is a permanent failure, and a receiver
 * that refuses (429 / RESOURCE_EXHAUSTED + retry-after) is retried until it
 * takes the data.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Factory } from '../../core/component.ts';
import { PermanentError, RefusedError, ThrottledError } from '../../core/errors.ts';
import { Payload } from '../../core/payload.ts';
import { encodeLogsProto } from '../../core/otlp/logs-proto.ts';
import { getAttr } from '../../core/model.ts';
import { settingsFor } from '../../test/component-config.ts';
import { sampleLogs, sampleTraces, testHost } from '../../test/helpers.ts';
import { startAuthFixture, SUBJECT, TOKEN, type AuthFixture } from '../../test/receiver-auth-fixture.ts';
import { BearerTokenAuthExtension, bearerTokenAuthFactory, type BearerTokenAuthConfig } from '../../extensions/bearertokenauth/index.ts';
import type { ExporterHelper } from '../../core/exporter-helper.ts';
import { otlpExporterFactory } from './index.ts';
import { otlpHttpExporterFactory } from '../otlphttp/index.ts';

let fx: AuthFixture;
let good: BearerTokenAuthExtension;
let bad: BearerTokenAuthExtension;

beforeAll(async () => {
  fx = await startAuthFixture();
  good = new BearerTokenAuthExtension(settingsFor<BearerTokenAuthConfig>(bearerTokenAuthFactory as Factory, { token: TOKEN }, { id: 'bearertokenauth/client' }));
  bad = new BearerTokenAuthExtension(settingsFor<BearerTokenAuthConfig>(bearerTokenAuthFactory as Factory, { token: 'not-the-token' }, { id: 'bearertokenauth/bad' }));
});
afterAll(async () => fx.stop());

const host = () => testHost({ 'bearertokenauth/client': good, 'bearertokenauth/bad': bad });

type Kind = 'grpc' | 'http-proto' | 'http-json';
function exporter(kind: Kind, extra: Record<string, unknown> = {}): ExporterHelper {
  const common = { tls: { insecure: true }, auth: { authenticator: 'bearertokenauth/client' }, sending_queue: { enabled: false }, ...extra };
  if (kind === 'grpc') return otlpExporterFactory.create(settingsFor(otlpExporterFactory as Factory, { endpoint: fx.otlp.grpc!.address, ...common }, { id: 'otlp' })) as ExporterHelper;
  return otlpHttpExporterFactory.create(
    settingsFor(otlpHttpExporterFactory as Factory, { endpoint: `http://${fx.otlp.http!.address}`, encoding: kind === 'http-json' ? 'json' : 'proto', ...common }, { id: 'otlphttp' }),
  ) as ExporterHelper;
}

describe.each<[Kind, string]>([
  ['grpc', 'gzip'],
  ['grpc', 'none'],
  ['http-proto', 'gzip'],
  ['http-proto', 'none'],
  ['http-json', 'gzip'],
])('%s exporter, compression %s', (kind, compression) => {
  it('delivers logs and traces intact, authenticated with the client token', async () => {
    fx.sink.logPayloads = [];
    fx.sink.tracePayloads = [];
    const exp = exporter(kind, { compression });
    await exp.start(host());
    const logs = sampleLogs(5, 'agent-host');
    // Bytes in, bytes out: the request is sent as it came (nothing decodes it on our side).
    await exp.consumeLogs(Payload.ofBytes('logs', [encodeLogsProto(logs)], 5));
    await exp.consumeTraces(Payload.traces(sampleTraces(2)));
    await exp.shutdown();
    expect(fx.sink.logRecords.map((r) => r.body)).toEqual(logs.resourceLogs[0]!.scopeLogs[0]!.logRecords.map((r) => r.body));
    expect(getAttr(fx.sink.logs[0]!.resourceLogs[0]!.resource.attributes, 'service.name')).toBe('agent-host');
    expect(fx.sink.spans).toHaveLength(sampleTraces(2).resourceSpans[0]!.scopeSpans[0]!.spans.length);
    expect(fx.sink.logPayloads[0]!.client?.auth?.subject).toBe(SUBJECT);
  });
});

describe.each<Kind>(['grpc', 'http-proto'])('%s exporter failures', (kind) => {
  it('a token the server does not accept is a permanent failure, never retried', async () => {
    const exp = exporter(kind, { auth: { authenticator: 'bearertokenauth/bad' }, retry_on_failure: { initial_interval: '10ms' } });
    await exp.start(host());
    const err = await exp.consumeLogs(Payload.logs(sampleLogs(1))).catch((e: unknown) => e);
    await exp.shutdown();
    expect(err).toBeInstanceOf(PermanentError);
    expect(String(err)).toMatch(kind === 'grpc' ? /gRPC status 16/ : /HTTP 401/);
  });

  it('a receiver refusing with queue_full is retried after its retry-after, then delivered', async () => {
    fx.sink.logPayloads = [];
    fx.sink.failWith = new RefusedError('queue full', 'queue_full', 1);
    const exp = exporter(kind, { retry_on_failure: { initial_interval: '10ms', max_interval: '20ms' } });
    await exp.start(host());
    const began = Date.now();
    const done = exp.consumeLogs(Payload.logs(sampleLogs(2)));
    setTimeout(() => (fx.sink.failWith = undefined), 300);
    await done;
    await exp.shutdown();
    // The server's 1 s hint was waited out although max_interval is 20 ms.
    expect(Date.now() - began).toBeGreaterThanOrEqual(900);
    expect(fx.sink.logRecords).toHaveLength(2);
  });

  it('a server that is down is a transient failure (retried), and the error says where', async () => {
    const exp = kind === 'grpc'
      ? (otlpExporterFactory.create(settingsFor(otlpExporterFactory as Factory, { endpoint: '127.0.0.1:1', tls: { insecure: true }, sending_queue: { enabled: false }, retry_on_failure: { enabled: false } })) as ExporterHelper)
      : (otlpHttpExporterFactory.create(settingsFor(otlpHttpExporterFactory as Factory, { endpoint: 'http://127.0.0.1:1', sending_queue: { enabled: false }, retry_on_failure: { enabled: false } })) as ExporterHelper);
    await exp.start(host());
    const err = await exp.consumeLogs(Payload.logs(sampleLogs(1))).catch((e: unknown) => e);
    await exp.shutdown();
    expect(err).toBeInstanceOf(Error);
    expect(err).not.toBeInstanceOf(PermanentError);
    expect(err).not.toBeInstanceOf(ThrottledError);
  });
});
