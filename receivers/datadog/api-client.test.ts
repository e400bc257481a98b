/**
 * The datadog receiver with the official Datadog API client
 * (`@datadog/datadog-api-client`, Apache-2.0): LogsApi.submitLog pointed at
 * the receiver through the client's base server, gzip and deflate, its
 * DD-API-KEY checked against `api_keys`; an Envoy JSON access log it submits
 * is classified as over OTLP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { client, v2 } from '@datadog/datadog-api-client';
import { getAttr } from '../../core/model.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { RecordingConsumer, testLogger } from '../../test/helpers.ts';
import { ENVOY_JSON_LINE, expectEnvoyJsonClassified } from '../../test/shipper-classify.ts';
import { defaultDatadogConfig } from './config.ts';
import { DatadogReceiver } from './receiver.ts';

describe('datadog receiver with the Datadog API client', () => {
  const consumer = new RecordingConsumer();
  const config = { ...defaultDatadogConfig(), endpoint: '127.0.0.1:0', api_keys: [{ name: 'mesh-team', api_key: 'dd-key-0123456789' }] };
  const receiver = new DatadogReceiver({ id: 'datadog', config, logger: testLogger(), metrics: new MetricsRegistry() }, { logs: consumer });
  beforeAll(() => receiver.start());
  afterAll(() => receiver.shutdown());

  const api = (key: string) =>
    new v2.LogsApi(client.createConfiguration({ baseServer: new client.BaseServerConfiguration(`http://${receiver.address}`, {}), authMethods: { apiKeyAuth: key }, enableRetry: false }));

  for (const contentEncoding of ['gzip', 'deflate'] as const) {
    it(`submitLog (${contentEncoding}) lands as records; the key's name is the sender`, async () => {
      consumer.logPayloads = [];
      const body: v2.HTTPLogItem[] = [
        { message: ENVOY_JSON_LINE, ddsource: 'envoy', hostname: 'node-1', service: 'istio-proxy' },
        { message: 'checkout done', ddsource: 'nodejs', hostname: 'node-1', service: 'checkout', additionalProperties: { status: 'info', 'usr.id': '42' } },
      ];
      expect(await api('dd-key-0123456789').submitLog({ body, contentEncoding, ddtags: 'env:prod,team:mesh' })).toEqual({});
      const rs = consumer.logRecords;
      expect(rs.map((r) => r.body)).toEqual([ENVOY_JSON_LINE, 'checkout done']);
      expectEnvoyJsonClassified(rs[0]!);
      expect(rs[1]!).toMatchObject({ severityText: 'info', severityNumber: 9 });
      expect(getAttr(rs[1]!.attributes, 'usr.id')).toBe('42');
      expect(getAttr(rs[1]!.attributes, 'env')).toBe('prod');
      expect(getAttr(rs[1]!.attributes, 'ddsource')).toBe('nodejs');
      expect(consumer.logs[0]!.resourceLogs.map((rl) => getAttr(rl.resource.attributes, 'service.name'))).toEqual(['istio-proxy', 'checkout']);
      expect(consumer.logPayloads[0]!.client!.auth!.subject).toBe('mesh-team');
    });
  }

  it('a wrong key is refused (401) and nothing lands', async () => {
    consumer.logPayloads = [];
    await expect(api('wrong-key').submitLog({ body: [{ message: 'x' }] })).rejects.toMatchObject({ code: 401 });
    expect(consumer.logPayloads).toEqual([]);
  });
});
