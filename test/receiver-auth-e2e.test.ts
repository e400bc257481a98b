/**
 * The gateway pattern end to end: senders authenticate (OTLP/HTTP with a
 * bearer token, OTLP/gRPC with Basic credentials, real SDK exporters), an
 * attributes processor stamps `from_context: auth.subject` on every record
 * before the batch, and each stored row names its sender, though both
 * senders' batches were in flight together. The credential itself is stored
 * nowhere, even with include_metadata on; a refused sender stores nothing.
 */
import bcrypt from 'bcryptjs';
import { describe, expect, it } from 'vitest';
import { Metadata } from '@grpc/grpc-js';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter } from '@opentelemetry/sdk-logs';
import { OTLPLogExporter as HttpLogs } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPLogExporter as GrpcLogs } from '@opentelemetry/exporter-logs-otlp-grpc';
import { embeddedClickhouse, serviceFixture } from './service.ts';

const TOKEN = 'acme-ingest-token-7Qx';
const PASSWORD = 'globex pass:word';

const service = serviceFixture('th-auth-e2e-', (dir) => `
extensions:
  bearertokenauth:
    tokens:
      - {token: "${TOKEN}", subject: acme}
  basicauth:
    htpasswd:
      inline: "globex:${bcrypt.hashSync(PASSWORD, 4)}"
receivers:
  otlp:
    protocols:
      http: {endpoint: "127.0.0.1:0", include_metadata: true, auth: {authenticator: bearertokenauth}}
      grpc: {endpoint: "127.0.0.1:0", include_metadata: true, auth: {authenticator: basicauth}}
processors:
  attributes/tenant:
    actions:
      - {key: tenant, action: upsert, from_context: auth.subject}
      - {key: user, action: upsert, from_context: auth.username}
      - {key: via, action: upsert, from_context: auth.authenticator}
      - {key: leaked, action: upsert, from_context: metadata.authorization}
  batch: {timeout: 100ms}
exporters:
${embeddedClickhouse(dir)}
service:
  extensions: [bearertokenauth, basicauth]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [attributes/tenant, batch], exporters: [clickhouse]}
`);

function provider(name: string, exporter: LogRecordExporter): LoggerProvider {
  return new LoggerProvider({ resource: resourceFromAttributes({ 'service.name': name }), processors: [new BatchLogRecordProcessor({ exporter })] });
}

describe('auth.subject end to end', () => {
  it('every row carries its authenticated sender; no credential is stored; a refused sender stores nothing', async () => {
    const otlp = service().otlp;
    const md = new Metadata();
    md.set('authorization', `Basic ${Buffer.from(`globex:${PASSWORD}`).toString('base64')}`);
    const acme = provider('auth-acme', new HttpLogs({ url: `http://${otlp.http!.address}/v1/logs`, headers: { Authorization: `Bearer ${TOKEN}` } }));
    const globex = provider('auth-globex', new GrpcLogs({ url: `http://${otlp.grpc!.address}`, metadata: md }));
    const intruder = provider('auth-intruder', new HttpLogs({ url: `http://${otlp.http!.address}/v1/logs`, headers: { Authorization: `Bearer ${TOKEN.slice(0, -1)}` } }));
    for (let i = 0; i < 20; i++) {
      acme.getLogger('t').emit({ body: `acme ${i}` });
      globex.getLogger('t').emit({ body: `globex ${i}` });
      intruder.getLogger('t').emit({ body: `intruder ${i}` });
    }
    await Promise.all([acme.forceFlush(), globex.forceFlush(), intruder.forceFlush()]);
    const rows = await service().waitRows<{ ServiceName: string; tenant: string; user: string; via: string; leaked: string; n: string }>(
      `SELECT ServiceName, LogAttributes['tenant'] AS tenant, LogAttributes['user'] AS user, LogAttributes['via'] AS via, LogAttributes['leaked'] AS leaked, count() AS n
         FROM otel.otel_logs WHERE ServiceName LIKE 'auth-%' GROUP BY ServiceName, tenant, user, via, leaked ORDER BY ServiceName`,
      (r) => r.reduce((s, x) => s + Number(x.n), 0) >= 40,
      'the 40 authenticated rows',
    );
    expect(rows).toEqual([
      { ServiceName: 'auth-acme', tenant: 'acme', user: '', via: 'bearertokenauth', leaked: '', n: '20' },
      { ServiceName: 'auth-globex', tenant: 'globex', user: 'globex', via: 'basicauth', leaked: '', n: '20' },
    ]);
    const anywhere = await service().rows<{ n: string }>(
      `SELECT count() AS n FROM otel.otel_logs WHERE positionCaseInsensitive(toString(LogAttributes), '${TOKEN.slice(0, 10)}') > 0 OR positionCaseInsensitive(toString(ResourceAttributes), 'basic ') > 0`,
    );
    expect(anywhere).toEqual([{ n: '0' }]);
    await Promise.all([acme.shutdown(), globex.shutdown(), intruder.shutdown()]);
  }, 60_000);
});
