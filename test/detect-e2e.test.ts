/**
 * Detection end to end on ./pipeline.yaml itself (port 0, a temp dir, a
 * learning period of seconds; the correlation window stays 10 s): real
 * OTLP/HTTP requests through redaction, the spool's fsynced queue, detect,
 * correlate, audit and the embedded store. Each scenario of issue 18 raises
 * exactly its signals within 5 s of the request's acknowledgement, with
 * evidence whose event ids are rows of audit_events; normal traffic after
 * learning raises none; a restart mid-scenario repeats nothing.
 *
 * The signals are taken by a test alerts extension (its `sink()` is what the
 * detect processor calls), the rest of the pipeline is the shipped one.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { builtinRegistry } from '../components.ts';
import type { ExtensionFactory } from '../core/component.ts';
import { s } from '../core/config/schema.ts';
import { loadConfigText } from '../core/config/load.ts';
import { encodeLogsProto, encodeTracesProto } from '../core/otlp/index.ts';
import { Service } from '../core/service.ts';
import type { OtlpReceiver } from '../receivers/otlp/otlp.ts';
import type { AlertSignal } from '../lib/detect/signal.ts';
import { RecordingSink } from '../processors/detect/testdata/rows.ts';
import { sampleTraces, sleep, testLogger, waitFor } from './helpers.ts';
import { CART, FRONTEND, OPS, denied, access, k8sChange, logsOf, normalTraffic, tlsFailure } from './mesh-traffic.ts';
import type { LogRecord } from '../core/model.ts';
import type { MetricsRegistry } from '../core/telemetry/metrics.ts';

const sink = new RecordingSink();
const testAlerts: ExtensionFactory<Record<string, never>> = {
  kind: 'extension',
  type: 'test_alerts',
  schema: s.object({}),
  defaultConfig: () => ({}),
  // Shaped as extensions/alerts/provider.ts expects of an alerts extension.
  create: () => ({ kind: 'alerts', start: async () => {}, shutdown: async () => {}, sink: () => sink }) as never,
};

const LEARNING_MS = 4000;
const dir = mkdtempSync(join(tmpdir(), 'th-detect-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(tweak: (cfg: Record<string, any>) => void = () => {}): string {
  const cfg = parse(readFileSync('pipeline.yaml', 'utf8')) as Record<string, any>;
  const any = '127.0.0.1:0';
  cfg.receivers.otlp.protocols.grpc.endpoint = any;
  cfg.receivers.otlp.protocols.http.endpoint = any;
  cfg.receivers.zipkin.endpoint = any;
  for (const p of Object.values(cfg.receivers.jaeger.protocols) as Array<{ endpoint: string }>) p.endpoint = any;
  cfg.extensions.clickhouse_store = { ...cfg.extensions.clickhouse_store, path: dir, query_endpoint: any };
  cfg.extensions.health_check.endpoint = any;
  cfg.extensions.file_storage.directory = `${dir}/queue`;
  cfg.extensions.test_alerts = {};
  cfg.service.extensions.push('test_alerts');
  cfg.processors.detect = { ...cfg.processors.detect, alerts: 'test_alerts', learning_period: `${LEARNING_MS}ms`, persist_interval: '500ms' };
  cfg.service.telemetry = { metrics: { level: 'none' } };
  tweak(cfg);
  return stringify(cfg);
}

async function start(tweak?: (cfg: Record<string, any>) => void): Promise<{ service: Service; url: string }> {
  const registry = builtinRegistry().register(testAlerts);
  const service = new Service(loadConfigText(config(tweak), registry), { logger: testLogger() });
  await service.start();
  const otlp = (service as unknown as { receivers: Array<{ id: string; component: unknown }> }).receivers.find((r) => r.id === 'otlp')!.component as OtlpReceiver;
  return { service, url: `http://${otlp.http!.address}/v1/logs` };
}

let running: { service: Service; url: string } | undefined;
afterAll(async () => {
  await running?.service.shutdown();
});

/** One OTLP/HTTP request; resolves when acknowledged (the spool fsynced it), with that time. */
async function send(records: LogRecord[], service?: string): Promise<number> {
  const r = await fetch(running!.url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from(encodeLogsProto(logsOf(records, service))) });
  expect(r.status).toBe(200);
  return Date.now();
}

/** The signals raised from now on until `keys` all arrived (≤ 5 s after `acked`), and then 1 s more: exactly those keys. */
async function expectSignals(from: number, acked: number, keys: string[]): Promise<AlertSignal[]> {
  await waitFor(() => keys.every((k) => sink.signals.slice(from).some((s) => s.key === k)), 5000 - (Date.now() - acked), `signals ${keys.join(', ')} (got ${sink.keys().slice(from).join(', ')})`);
  expect(Date.now() - acked).toBeLessThanOrEqual(5000);
  await sleep(1000);
  const got = sink.signals.slice(from);
  expect([...new Set(got.map((s) => s.key))].sort()).toEqual([...keys].sort());
  return got;
}

const PROBE_PATHS = Array.from({ length: 30 }, (_, i) => `/api/${['users', 'cards', 'refunds', 'secrets', 'keys', 'tokens'][i % 6]}/${['list', 'export', 'all', 'dump', 'raw'][i % 5]}`);
const evidence: string[] = [];

describe('detect: the scenarios on the default pipeline', () => {
  it('learns normal traffic, then raises nothing for it', async () => {
    running = await start();
    const learnUntil = Date.now() + LEARNING_MS;
    for (let i = 0; i < 5; i++) await send(normalTraffic(40, i * 40));
    await sleep(Math.max(0, learnUntil - Date.now()) + 200);
    expect(sink.signals).toEqual([]);
    for (let i = 5; i < 15; i++) await send(normalTraffic(40, i * 40));
    await sleep(1500);
    expect(sink.signals).toEqual([]);
  }, 60_000);

  it('a compromised service account probing many endpoints: deny surge (principal and destination) and first-seen access', async () => {
    const from = sink.signals.length;
    const acked = await send(PROBE_PATHS.map((p) => denied(CART, 'payments:8080', p)));
    const got = await expectSignals(from, acked, [`deny_surge|principal|${CART}`, 'deny_surge|destination|payments:8080', `first_seen_access|${CART}|payments:8080`]);
    const surge = got.find((s) => s.key === `deny_surge|principal|${CART}`)!;
    expect(surge.count).toBeGreaterThanOrEqual(20);
    expect(surge.evidence.eventIds.length).toBeGreaterThan(0);
    expect(surge.evidence.traceIds.length).toBeGreaterThan(0);
    // One first-seen signal per new (normalized) path, all on one alert key.
    expect(got.filter((s) => s.detector === 'first_seen_access').length).toBe(new Set(PROBE_PATHS).size);
    evidence.push(...surge.evidence.eventIds);
  }, 30_000);

  it('an mTLS misconfiguration after a certificate rotation: an authentication failure burst', async () => {
    const from = sink.signals.length;
    const acked = await send(Array.from({ length: 15 }, () => tlsFailure('10.244.3.9:40000', 'ledger:8443')));
    const got = await expectSignals(from, acked, ['auth_failure_burst|source|10.244.3.9', 'auth_failure_burst|destination|ledger:8443']);
    expect(got[0]!.reason).toMatch(/authentication failures/);
  }, 30_000);

  it('an AuthorizationPolicy deleted by a user: a configuration alert', async () => {
    const from = sink.signals.length;
    const acked = await send([k8sChange('delete', 'authorizationpolicies', 'deny-admin', 'mallory@example.com')]);
    const got = await expectSignals(from, acked, ['config_change|delete|authorizationpolicies.security.istio.io/shop/deny-admin']);
    expect(got[0]!.principal).toBe('mallory@example.com');
    evidence.push(...got[0]!.evidence.eventIds);
  }, 30_000);

  it('a new principal on /admin/**: sensitive first-seen, and nothing for the operator who is always there', async () => {
    const from = sink.signals.length;
    const acked = await send([access({ principal: FRONTEND, authority: 'billing:8080', path: '/admin/users' }), access({ principal: OPS, authority: 'billing:8080', path: '/admin/users' })]);
    const got = await expectSignals(from, acked, [`sensitive_first_seen|${FRONTEND}|billing:8080|/admin/users`]);
    expect(got).toHaveLength(1);
    evidence.push(...got[0]!.evidence.eventIds);
  }, 30_000);

  it('restart mid-scenario: the same probe again raises no duplicate burst', async () => {
    await running!.service.shutdown();
    running = await start();
    const from = sink.signals.length;
    await send(PROBE_PATHS.map((p) => denied(CART, 'payments:8080', p)));
    await send([access({ principal: FRONTEND, authority: 'billing:8080', path: '/admin/users' })]);
    await send(normalTraffic(40, 600));
    await sleep(3000);
    expect(sink.keys().slice(from)).toEqual([]);
  }, 60_000);

  it('evidence names audit_events rows by Details[event_id] (detect and audit give one event the same id)', async () => {
    const store = (running!.service as unknown as { extensions: Array<{ id: string; component: { queryUrl?: string } }> }).extensions.find((e) => e.id === 'clickhouse_store')!.component;
    const ids = evidence.map((id) => `'${id}'`).join(',');
    const query = `SELECT count() FROM otel.audit_events WHERE Details['event_id'] IN (${ids}) FORMAT TSV`;
    await waitFor(async () => {
      const r = await fetch(`${store.queryUrl}/?query=${encodeURIComponent(query)}`);
      return Number((await r.text()).trim()) === evidence.length;
    }, 40_000, 'evidence rows in audit_events');
    // The audit processor took the detect processor's classification instead of classifying again.
    const reused = (running!.service as unknown as { metrics: MetricsRegistry }).metrics.counter('trailhouse_audit_reused_classifications', '', { processor: 'audit' });
    await waitFor(() => reused.value > 0, 20_000, 'a reused classification');
  }, 60_000);

  it('a service that stopped sending spans is reported after the gap; one that keeps sending logs is not', async () => {
    await running!.service.shutdown();
    running = await start((cfg) => (cfg.processors.detect.detectors = { source_silent: { gap: '2s' } }));
    const from = sink.signals.length;
    const traces = running.url.replace('/v1/logs', '/v1/traces');
    const r = await fetch(traces, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from(encodeTracesProto(sampleTraces(2, 'nightly-export'))) });
    expect(r.status).toBe(200);
    const stopAt = Date.now();
    for (let i = 0; i < 10; i++) {
      await send([access({ principal: FRONTEND, authority: 'orders:8080', path: '/api/orders' })], 'steady');
      await sleep(500);
    }
    const silent = sink.signals.slice(from).filter((s) => s.detector === 'source_silent');
    expect(silent.map((s) => s.key)).toContain('source_silent|nightly-export');
    expect(silent.map((s) => s.key)).not.toContain('source_silent|steady');
    const reported = silent.filter((s) => s.key === 'source_silent|nightly-export');
    expect(reported).toHaveLength(1);
    // Raised once the gap had passed since its spans, not before.
    expect(Number(reported[0]!.time / 1_000_000n) - stopAt).toBeGreaterThanOrEqual(2000);
  }, 60_000);
});
