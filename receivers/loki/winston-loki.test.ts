/**
 * The loki receiver with a real Loki push client: the `winston-loki`
 * transport (MIT; not Loki's AGPL code), in its protobuf + snappy mode and
 * its JSON mode, with a tenant header; an Envoy JSON access log line it
 * ships is classified as over OTLP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import winston from 'winston';
import LokiTransport from 'winston-loki';
import { metadataValues } from '../../core/client.ts';
import { getAttr } from '../../core/model.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { RecordingConsumer, testLogger, waitFor } from '../../test/helpers.ts';
import { ENVOY_JSON_LINE, expectEnvoyJsonClassified } from '../../test/shipper-classify.ts';
import { defaultLokiConfig, lokiHttpDefaults } from './config.ts';
import { LokiReceiver } from './receiver.ts';

describe('loki receiver with winston-loki', () => {
  const consumer = new RecordingConsumer();
  const config = { ...defaultLokiConfig(), protocols: { http: { ...lokiHttpDefaults(), endpoint: '127.0.0.1:0' }, grpc: null } };
  const metrics = new MetricsRegistry();
  const receiver = new LokiReceiver({ id: 'loki', config, logger: testLogger(), metrics }, { logs: consumer });
  beforeAll(() => receiver.start());
  afterAll(() => receiver.shutdown());

  for (const json of [false, true]) {
    it(`${json ? 'JSON' : 'protobuf + snappy'}: lines, labels, tenant`, async () => {
      consumer.logPayloads = [];
      const errors: unknown[] = [];
      const transport = new LokiTransport({
        host: `http://${receiver.address}`,
        json,
        batching: false,
        labels: { app: 'istio-proxy', namespace: 'mesh' },
        headers: { 'X-Scope-OrgID': 'team-a' },
        format: winston.format.printf((i: { message: unknown }) => String(i.message)),
        onConnectionError: (e: unknown) => errors.push(e),
      });
      const logger = winston.createLogger({ transports: [transport] });
      logger.info(ENVOY_JSON_LINE);
      logger.warn('plain line');
      await waitFor(() => consumer.logRecords.length === 2, 20_000, 'both lines');
      expect(errors).toEqual([]);
      const rs = consumer.logRecords;
      const envoy = rs.find((r) => r.body === ENVOY_JSON_LINE)!;
      const plain = rs.find((r) => r.body === 'plain line')!;
      expect(getAttr(plain.attributes, 'app')).toBe('istio-proxy');
      expect(getAttr(plain.attributes, 'namespace')).toBe('mesh');
      expect(getAttr(plain.attributes, 'level')).toBe('warn');
      expect(plain.timeUnixNano).toBeGreaterThan(1_700_000_000_000_000_000n);
      expectEnvoyJsonClassified(envoy);
      for (const p of consumer.logPayloads) expect(metadataValues(p.client, 'x-scope-orgid')).toEqual(['team-a']);
      // The wire format really was the one asked for (winston-loki falls back to JSON without snappy).
      expect(metrics.sum('otelcol_receiver_accepted_log_records', { receiver: 'loki', transport: json ? 'http_json' : 'http_proto' })).toBe(2);
      logger.close();
    });
  }
});
