/**
 * The datadog receiver over real HTTP, with the Datadog Agent's request
 * shape (gzip JSON array, DD-API-KEY, /api/v2/logs) and the older /v1/input
 * (JSON and text/plain): mapping, API key allowlist as auth (the key's name
 * in client info, the key never), Envoy/Istio classification, bad input.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deflateSync, gzipSync } from 'node:zlib';
import { metadataValues } from '../../core/client.ts';
import { RefusedError } from '../../core/errors.ts';
import { getAttr } from '../../core/model.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { RecordingConsumer, testLogger } from '../../test/helpers.ts';
import { ENVOY_JSON_LINE, ISTIO_TEXT_LINE, expectEnvoyJsonClassified, expectIstioTextClassified } from '../../test/shipper-classify.ts';
import { defaultDatadogConfig, validateDatadog, type DatadogReceiverConfig } from './config.ts';
import { DatadogReceiver } from './receiver.ts';

function start(consumer: RecordingConsumer, over: Partial<DatadogReceiverConfig>, metrics = new MetricsRegistry()) {
  const config = { ...defaultDatadogConfig(), endpoint: '127.0.0.1:0', ...over };
  return new DatadogReceiver({ id: 'datadog', config, logger: testLogger(), metrics }, { logs: consumer });
}

const agentLog = (message: string, extra: Record<string, unknown> = {}) => ({
  message, status: 'error', timestamp: 1715677923456, hostname: 'node-1', service: 'istio-proxy', ddsource: 'envoy', ddtags: 'env:prod,version:1.2,canary', ...extra,
});

describe('datadog receiver, open (no api_keys)', () => {
  const consumer = new RecordingConsumer();
  const metrics = new MetricsRegistry();
  const receiver = start(consumer, { include_metadata: true, max_request_body_size: 64 * 1024, max_records_per_request: 50 }, metrics);
  let base = '';
  const post = (path: string, body: Uint8Array | string, headers: Record<string, string> = { 'content-type': 'application/json' }) =>
    fetch(base + path, { method: 'POST', headers, body: typeof body === 'string' ? body : new Uint8Array(body) });
  beforeAll(async () => {
    await receiver.start();
    base = `http://${receiver.address}`;
  });
  afterAll(() => receiver.shutdown());

  it('the Agent shape (gzip, /api/v2/logs) → 202; fields mapped; the key never kept', async () => {
    consumer.logPayloads = [];
    const body = gzipSync(JSON.stringify([agentLog(ENVOY_JSON_LINE), agentLog('plain line', { service: 'web', status: 'info', 'http.client_ip': '10.0.0.1', nested: { a: 1 } })]));
    const res = await post('/api/v2/logs', body, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'dd-api-key': 'secret-key-1' });
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({});
    const p = consumer.logPayloads[0]!;
    expect(metadataValues(p.client, 'dd-api-key')).toEqual([]);
    expect(metadataValues(p.client, 'content-encoding')).toEqual(['gzip']);
    expect(p.client!.auth).toBeUndefined();
    const rls = consumer.logs[0]!.resourceLogs;
    expect(rls.map((rl) => rl.resource.attributes)).toEqual([
      [{ key: 'host.name', value: 'node-1' }, { key: 'service.name', value: 'istio-proxy' }],
      [{ key: 'host.name', value: 'node-1' }, { key: 'service.name', value: 'web' }],
    ]);
    const [envoy, plain] = consumer.logRecords;
    expect(envoy!.body).toBe(ENVOY_JSON_LINE);
    expect(envoy!.timeUnixNano).toBe(1_715_677_923_456_000_000n);
    expect(envoy!).toMatchObject({ severityText: 'error', severityNumber: 17 });
    expectEnvoyJsonClassified(envoy!);
    expect(plain!).toMatchObject({ body: 'plain line', severityText: 'info', severityNumber: 9 });
    expect(getAttr(plain!.attributes, 'ddsource')).toBe('envoy');
    expect(getAttr(plain!.attributes, 'ddtags')).toBe('env:prod,version:1.2,canary');
    expect(getAttr(plain!.attributes, 'env')).toBe('prod');
    expect(getAttr(plain!.attributes, 'version')).toBe('1.2');
    expect(getAttr(plain!.attributes, 'http.client_ip')).toBe('10.0.0.1');
  });

  it('zstd bodies (recent Agents) are read, bounded, and corrupt ones refused', async () => {
    consumer.logPayloads = [];
    // Made with the zstd CLI (Node 20's zlib has no zstd encoder): a one-log body, and 1,000,000 spaces at -19.
    const one = Buffer.from('KLUv/QRY7QIAckYWHGBN0wEoMcaGkXjvQ8v4IAAAMQZiA/8GDAEAHA2HyohKVjfBIo/iZxRo89zqtuUSH+PDLISBoJASs6CE1I62EttYfn4Kx1YjJFfi5zrWADSJk9VdLMS2KYYA/AsCog==', 'base64');
    const bomb = Buffer.from('KLUv/QRoTAAACCABAPz/ORACAgAQIAIAECACABAgAgAQIAIAECACABAgAxIKIGkCa9w=', 'base64');
    const res = await post('/api/v2/logs', one, { 'content-type': 'application/json', 'content-encoding': 'zstd' });
    expect(res.status).toBe(202);
    expect(consumer.logRecords.map((r) => r.body)).toEqual(['zstd line']);
    const big = await post('/api/v2/logs', bomb, { 'content-type': 'application/json', 'content-encoding': 'zstd' });
    expect(big.status).toBe(413);
    const bad = await post('/api/v2/logs', Buffer.from([0x28, 0xb5, 0x2f, 0xfd, 1, 2, 3]), { 'content-type': 'application/json', 'content-encoding': 'zstd' });
    expect(bad.status).toBe(400);
    expect(await bad.text()).toMatch(/zstd/);
  });

  it('/v1/input → 200: one object (deflate), and text/plain lines with query defaults', async () => {
    consumer.logPayloads = [];
    let res = await post('/v1/input', deflateSync(JSON.stringify({ message: ISTIO_TEXT_LINE })), { 'content-type': 'application/json', 'content-encoding': 'deflate' });
    expect(res.status).toBe(200);
    res = await post('/v1/input?ddsource=nginx&service=edge&hostname=h2', `line one\r\n\nline two\n`, { 'content-type': 'text/plain' });
    expect(res.status).toBe(200);
    const rs = consumer.logRecords;
    expectIstioTextClassified(rs[0]!);
    expect(rs.slice(1).map((r) => r.body)).toEqual(['line one', 'line two']);
    expect(getAttr(rs[1]!.attributes, 'ddsource')).toBe('nginx');
    expect(consumer.logs[1]!.resourceLogs[0]!.resource.attributes).toEqual([{ key: 'host.name', value: 'h2' }, { key: 'service.name', value: 'edge' }]);
  });

  it('bad input: status and reason, never the key in a path; then serves again', async () => {
    const cases: [string, Uint8Array | string, Record<string, string>, number, RegExp][] = [
      ['/api/v2/logs', '[{', { 'content-type': 'application/json' }, 400, /not JSON/],
      ['/api/v2/logs', '[1]', { 'content-type': 'application/json' }, 400, /\[0\]: expected a log object/],
      ['/api/v2/logs', '[{"message":"x","timestamp":"yesterday"}]', { 'content-type': 'application/json' }, 400, /timestamp/],
      ['/api/v2/logs', '[{"message":"x","hostname":7}]', { 'content-type': 'application/json' }, 400, /hostname: expected a string/],
      ['/api/v2/logs', 'x', { 'content-type': 'application/xml' }, 415, /unsupported content type/],
      ['/api/v2/logs', 'x', { 'content-type': 'application/json', 'content-encoding': 'br' }, 415, /Content-Encoding/],
      ['/api/v2/logs', gzipSync(Buffer.alloc(200_000, 32)), { 'content-type': 'application/json', 'content-encoding': 'gzip' }, 413, /exceeds the limit/],
      ['/api/v2/logs', JSON.stringify(Array.from({ length: 51 }, () => ({ message: 'x' }))), { 'content-type': 'application/json' }, 413, /max_records_per_request/],
      ['/v1/input/abcdef0123456789', '{}', { 'content-type': 'application/json' }, 404, /DD-API-KEY header/],
      ['/api/v1/series', '{}', { 'content-type': 'application/json' }, 404, /unknown path/],
    ];
    for (const [path, body, headers, status, reason] of cases) {
      const res = await post(path, body, headers);
      expect(res.status, String(reason)).toBe(status);
      const text = await res.text();
      expect(text).toMatch(reason);
      expect(text).not.toContain('abcdef0123456789');
    }
    expect((await fetch(base + '/api/v2/logs')).status).toBe(405);
    // The Agent's connectivity check: an empty body is zero logs, accepted.
    expect((await post('/api/v2/logs', '')).status).toBe(202);
    expect((await post('/api/v2/logs', '[]')).status).toBe(202);
    consumer.failWith = new RefusedError('queue is full', 'queue_full', 2);
    const refused = await post('/api/v2/logs', '[{"message":"x"}]');
    consumer.failWith = undefined;
    expect(refused.status).toBe(429);
    expect(refused.headers.get('retry-after')).toBe('2');
    expect((await post('/api/v2/logs', '[{"message":"ok"}]')).status).toBe(202);
    expect(metrics.sum('otelcol_receiver_refused_log_records', { receiver: 'datadog' })).toBe(52);
  });
});

describe('datadog receiver with api_keys', () => {
  const consumer = new RecordingConsumer();
  const metrics = new MetricsRegistry();
  const receiver = start(consumer, { api_keys: [{ name: 'team-a', api_key: 'key-aaaa' }, { name: 'team-b', api_key: 'key-bbbb' }], include_metadata: true }, metrics);
  beforeAll(() => receiver.start());
  afterAll(() => receiver.shutdown());
  const post = (key?: string) =>
    fetch(`http://${receiver.address}/api/v2/logs`, { method: 'POST', headers: { 'content-type': 'application/json', ...(key ? { 'dd-api-key': key } : {}) }, body: '[{"message":"m"}]' });

  it('a listed key is accepted as its name, others are 401 and counted', async () => {
    expect((await post('key-bbbb')).status).toBe(202);
    const c = consumer.logPayloads[0]!.client!;
    expect(c.auth).toMatchObject({ subject: 'team-b', authenticator: 'datadog/api_keys' });
    expect(metadataValues(c, 'dd-api-key')).toEqual([]);
    const bad = await post('key-cccc');
    expect(bad.status).toBe(401);
    expect(await bad.text()).not.toContain('key-cccc');
    expect((await post()).status).toBe(401);
    expect(consumer.logPayloads).toHaveLength(1);
    expect(metrics.sum('trailhouse_receiver_auth_failures', { receiver: 'datadog' })).toBe(2);
  });

  it('config: api_keys count as auth on a non-loopback endpoint; duplicates and both-set refused', () => {
    const base = { ...defaultDatadogConfig(), endpoint: '0.0.0.0:8126' };
    expect(validateDatadog(base)[0]!.message).toMatch(/auth/);
    expect(validateDatadog({ ...base, api_keys: [{ name: 'a', api_key: 'k' }] })).toEqual([]);
    const dup = validateDatadog({ ...base, api_keys: [{ name: 'a', api_key: 'k' }, { name: 'a', api_key: 'k' }] });
    expect(dup.map((e) => e.path)).toEqual(['api_keys[1].name', 'api_keys[1].api_key']);
    expect(JSON.stringify(dup)).not.toMatch(/"k"/);
    expect(validateDatadog({ ...base, api_keys: [{ name: 'a', api_key: 'k' }], auth: { authenticator: 'basicauth' } })[0]!.path).toBe('api_keys');
  });
});
