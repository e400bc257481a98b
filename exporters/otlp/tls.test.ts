/**
 * The OTLP exporters' client TLS against trailhouse's receiver requiring
 * client certificates (test/testdata/tls): the server verified with ca_file,
 * a client certificate presented; no CA (a server we cannot verify) or no
 * client certificate is a failure that names TLS, not a delivery.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import type { Factory } from '../../core/component.ts';
import type { ExporterHelper } from '../../core/exporter-helper.ts';
import { Payload } from '../../core/payload.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { grpcDefaults, httpDefaults } from '../../receivers/otlp/config.ts';
import { OtlpReceiver } from '../../receivers/otlp/otlp.ts';
import { settingsFor } from '../../test/component-config.ts';
import { RecordingConsumer, sampleLogs, testHost, testLogger } from '../../test/helpers.ts';
import { otlpExporterFactory } from './index.ts';
import { otlpHttpExporterFactory } from '../otlphttp/index.ts';

const file = (n: string) => join(import.meta.dirname, '..', '..', 'test', 'testdata', 'tls', n);
const serverTls = { cert_file: file('server.crt'), key_file: file('server.key'), client_ca_file: file('ca.crt'), min_version: '1.2' as const };
const sink = new RecordingConsumer();
let rx: OtlpReceiver;

beforeAll(async () => {
  rx = new OtlpReceiver(
    { id: 'otlp', config: { protocols: { grpc: { ...grpcDefaults(), endpoint: '127.0.0.1:0', tls: serverTls }, http: { ...httpDefaults(), endpoint: '127.0.0.1:0', tls: serverTls } } }, logger: testLogger(), metrics: new MetricsRegistry() },
    { logs: sink, traces: sink },
  );
  await rx.start(testHost());
});
afterAll(async () => rx.shutdown());

function exporter(kind: 'grpc' | 'http', tls: Record<string, unknown>): ExporterHelper {
  const common = { tls, sending_queue: { enabled: false }, retry_on_failure: { enabled: false } };
  return (kind === 'grpc'
    ? otlpExporterFactory.create(settingsFor(otlpExporterFactory as Factory, { endpoint: rx.grpc!.address, ...common }))
    : otlpHttpExporterFactory.create(settingsFor(otlpHttpExporterFactory as Factory, { endpoint: `https://${rx.http!.address}`, ...common }))) as ExporterHelper;
}

async function send(exp: ExporterHelper): Promise<unknown> {
  await exp.start(testHost());
  try {
    await exp.consumeLogs(Payload.logs(sampleLogs(2)));
    return undefined;
  } catch (err) {
    return err;
  } finally {
    await exp.shutdown();
  }
}

describe.each(['grpc', 'http'] as const)('%s exporter over mutual TLS', (kind) => {
  it('delivers with ca_file and a client certificate', async () => {
    sink.logPayloads = [];
    expect(await send(exporter(kind, { ca_file: file('ca.crt'), cert_file: file('client.crt'), key_file: file('client.key') }))).toBeUndefined();
    expect(sink.logRecords).toHaveLength(2);
  });

  it('fails without the CA (the server cannot be verified) and without a client certificate', async () => {
    sink.logPayloads = [];
    expect(await send(exporter(kind, { cert_file: file('client.crt'), key_file: file('client.key') }))).toBeInstanceOf(Error);
    expect(await send(exporter(kind, { ca_file: file('ca.crt') }))).toBeInstanceOf(Error);
    expect(sink.logPayloads).toHaveLength(0);
  });
});

it('a missing certificate file fails the start with its key', async () => {
  const exp = exporter('grpc', { ca_file: '/nonexistent/ca.pem' });
  await expect(exp.start(testHost())).rejects.toThrow(/tls\.ca_file: cannot read \/nonexistent\/ca\.pem: ENOENT/);
  await exp.shutdown();
});
