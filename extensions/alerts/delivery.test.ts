/**
 * Delivery against real HTTP servers in the test: Alertmanager's v2 schema,
 * the generic webhook document, OTLP log records (protobuf and JSON); a
 * webhook down for a while gets everything once it is back; refusals are
 * counted, not retried forever.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../../test/helpers.ts';
import { decodeLogsProto } from '../../core/otlp/logs-proto.ts';
import { decodeLogsJson } from '../../core/otlp/logs-json.ts';
import type { AlertsConfig } from './config.ts';
import { signal, startFixture, type Fixture } from './fixture.test-helper.ts';

interface Received {
  path: string;
  type: string;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

class Receiver {
  readonly got: Received[] = [];
  /** Answer with this status (e.g. 503 while "down"). */
  status = 200;
  private server: http.Server | undefined;
  url = '';
  async start(): Promise<this> {
    this.server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (this.status === 200) this.got.push({ path: req.url ?? '', type: req.headers['content-type'] ?? '', headers: req.headers, body: Buffer.concat(chunks) });
        res.statusCode = this.status;
        res.end();
      });
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }
  json<T>(): T[] {
    return this.got.map((g) => JSON.parse(g.body.toString('utf8')) as T);
  }
  async stop(): Promise<void> {
    this.server?.closeAllConnections();
    await new Promise<void>((r) => this.server?.close(() => r()) ?? r());
  }
}

let f: Fixture | undefined;
const receivers: Receiver[] = [];
afterEach(async () => {
  await f?.stop();
  f = undefined;
  for (const r of receivers.splice(0)) await r.stop();
});

async function setup(targets: (url: string) => Partial<AlertsConfig>): Promise<Receiver> {
  const r = await new Receiver().start();
  receivers.push(r);
  f = await startFixture({ storage: 'file_storage', retry: { initial_interval: 50, max_interval: 200 }, update_interval: 200, resend_interval: 0, ...targets(r.url) });
  return r;
}

const target = (endpoint: string) => ({ endpoint, headers: { 'x-test': 'yes' }, timeout: 2000 });

interface AmAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
}

describe('alert delivery', () => {
  it('Alertmanager: POST /api/v2/alerts with the v2 fields; a resolve is sent with endsAt', async () => {
    const r = await setup((url) => ({ alertmanager: target(url), external_url: 'http://trailhouse.example:8123' }));
    const traceId = 'ab'.repeat(16);
    f!.alerts.raise(signal({ key: 'am-1', evidence: { eventIds: ['ev-am'], traceIds: [traceId] } }));
    await waitFor(() => r.got.length >= 1, 10_000, 'the alert at Alertmanager');
    expect(r.got[0]!.path).toBe('/api/v2/alerts');
    expect(r.got[0]!.type).toBe('application/json');
    expect(r.got[0]!.headers['x-test']).toBe('yes');
    const [first] = r.json<AmAlert[]>()[0]!;
    expect(first!.labels).toMatchObject({ alertname: 'deny_surge', severity: 'warning', principal: 'spiffe://cluster.local/ns/shop/sa/cart', destination: 'payments' });
    expect(first!.labels.alert_id).toMatch(/^[0-9a-f]{16}$/);
    expect(first!.annotations.reason).toContain('40 denials');
    expect(first!.annotations.evidence).toContain(`trailhouse trace ${traceId}`);
    expect(first!.annotations.evidence).toContain('ev-am');
    expect(new Date(first!.startsAt).toISOString()).toBe(first!.startsAt);
    expect(first!.endsAt).toBeUndefined();
    expect(first!.generatorURL).toBe(`http://trailhouse.example:8123/alerts/${first!.labels.alert_id}`);
    await f!.alerts.flushForTest();
    await f!.alerts.setStatus(first!.labels.alert_id!, 'resolved', 'alice', 'fixed the policy');
    await waitFor(() => r.got.length >= 2, 10_000, 'the resolved alert');
    const [resolved] = r.json<AmAlert[]>()[1]!;
    expect(resolved!.labels).toEqual(first!.labels);
    expect(resolved!.endsAt).toBeDefined();
    expect(resolved!.annotations).toMatchObject({ status: 'resolved', status_by: 'alice', note: 'fixed the policy' });
  });

  it('Alertmanager gets firing alerts again every resend_interval', async () => {
    const r = await setup((url) => ({ alertmanager: target(url), resend_interval: 1000 }));
    f!.alerts.raise(signal({ key: 'am-resend' }));
    await waitFor(() => r.got.length >= 3, 10_000, 'the first send and two re-sends');
    const ids = r.json<AmAlert[]>().flat().map((a) => a.labels.alert_id);
    expect(new Set(ids).size).toBe(1);
  });

  it('webhook: the trailhouse.alerts/v1 document; repeats go out as the newest version', async () => {
    const r = await setup((url) => ({ webhook: target(`${url}/hook`) }));
    f!.alerts.raise(signal({ key: 'wh-1', count: 2 }));
    f!.alerts.raise(signal({ key: 'wh-1', count: 3 }));
    f!.alerts.raise(signal({ key: 'wh-1', count: 4 }));
    type Doc = { version: string; sent_at: string; alerts: Array<Record<string, unknown>> };
    await waitFor(() => r.json<Doc>().some((d) => d.alerts.some((a) => a.count === 9)), 10_000, 'the newest version');
    const docs = r.json<Doc>();
    expect(r.got[0]!.path).toBe('/hook');
    expect(docs[0]!.version).toBe('trailhouse.alerts/v1');
    const a = docs[0]!.alerts[0]!;
    expect(a).toMatchObject({ status: 'open', detector: 'deny_surge', severity: 'warning', key: 'wh-1', count: 2, destination: 'payments' });
    expect(a.trace_commands).toEqual([`trailhouse trace ${(a.trace_ids as string[])[0]}`]);
    // the first version at once, the two repeats as one newest version
    expect(docs.flatMap((d) => d.alerts.map((x) => x.count))).toEqual([2, 9]);
  });

  it('otlp: one log record per alert version, protobuf and JSON', async () => {
    for (const encoding of ['proto', 'json'] as const) {
      const r = await setup((url) => ({ otlp: { ...target(`${url}/v1/logs`), encoding } }));
      const traceId = 'cd'.repeat(16);
      f!.alerts.raise(signal({ key: `otlp-${encoding}`, severity: 'critical', evidence: { eventIds: ['e1'], traceIds: [traceId] } }));
      await waitFor(() => r.got.length >= 1, 10_000, 'the OTLP request');
      expect(r.got[0]!.type).toBe(encoding === 'proto' ? 'application/x-protobuf' : 'application/json');
      const logs = encoding === 'proto' ? decodeLogsProto(r.got[0]!.body) : decodeLogsJson(r.got[0]!.body);
      const rec = logs.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!;
      expect(rec.severityNumber).toBe(17);
      expect(rec.body).toContain('40 denials');
      expect(rec.traceId).toBe(traceId);
      expect(rec.eventName).toBe('trailhouse.alert');
      const attr = Object.fromEntries(rec.attributes.map((kv) => [kv.key, kv.value]));
      expect(attr['alert.detector']).toBe('deny_surge');
      expect(attr['alert.status']).toBe('open');
      expect(attr['alert.event_ids']).toEqual(['e1']);
      await f!.stop();
      f = undefined;
    }
  });

  it('webhook down for 60 s (retries backing off to 5 s): everything queued is delivered once it is back, none lost', async () => {
    const r = await setup((url) => ({ webhook: target(url), retry: { initial_interval: 1000, max_interval: 5000 } }));
    r.status = 503;
    const keys = Array.from({ length: 30 }, (_, i) => `down-${i}`);
    for (const key of keys) f!.alerts.raise(signal({ key }));
    await waitFor(() => f!.metrics.sum('trailhouse_alerts_deliveries', { target: 'webhook', outcome: 'failed' }) >= 3, 20_000, 'failed attempts');
    expect(r.got).toHaveLength(0);
    await new Promise((res) => setTimeout(res, 60_000));
    const failedWhileDown = f!.metrics.sum('trailhouse_alerts_deliveries', { target: 'webhook', outcome: 'failed' });
    // Backed off: a retry every second would have failed about 60 times.
    expect(failedWhileDown).toBeLessThan(40);
    r.status = 200;
    type Doc = { alerts: Array<{ key: string }> };
    await waitFor(() => new Set(r.json<Doc>().flatMap((d) => d.alerts.map((a) => a.key))).size === keys.length, 20_000, 'all 30 alerts');
    expect(f!.metrics.sum('trailhouse_alerts_deliveries', { target: 'webhook', outcome: 'delivered' })).toBeGreaterThanOrEqual(30);
    expect(f!.metrics.sum('trailhouse_alerts_deliveries', { target: 'webhook', outcome: 'refused' })).toBe(0);
  }, 120_000);

  it('a refusal (400) is given up and counted, and the queue goes on', async () => {
    const r = await setup((url) => ({ webhook: target(url) }));
    r.status = 400;
    f!.alerts.raise(signal({ key: 'refused-1' }));
    await waitFor(() => f!.metrics.sum('trailhouse_alerts_deliveries', { target: 'webhook', outcome: 'refused' }) === 1, 10_000, 'the refusal counted');
    r.status = 200;
    f!.alerts.raise(signal({ key: 'refused-2' }));
    await waitFor(() => r.got.length === 1, 10_000, 'the next alert delivered');
    expect(f!.metrics.exposition()).toMatch(/trailhouse_alerts_queue_depth\{target="webhook"\} 0/);
  });
});
