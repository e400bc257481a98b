/**
 * Detection end to end on ./pipeline.yaml itself (port 0, a temp dir, a
 * learning period of seconds; the correlation window stays 10 s): real
 * OTLP/HTTP requests through redaction, the spool's fsynced queue, detect,
 * correlate, audit and the embedded store. Each scenario of issue 18 raises
 * exactly its signals within 5 s of the request's acknowledgement, with
 * evidence whose event ids are rows of audit_events; normal traffic after
 * learning raises none; a restart mid-scenario repeats nothing.
 *
 * Alerts are the shipped alerts extension's rows in otel.audit_alerts (one per
 * key; a repeat adds to its Count), read through the query interface.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { builtinRegistry } from '../components.ts';
import { loadConfigText } from '../core/config/load.ts';
import { encodeLogsProto, encodeTracesProto } from '../core/otlp/index.ts';
import { Service } from '../core/service.ts';
import type { OtlpReceiver } from '../receivers/otlp/otlp.ts';
import { sampleTraces, sleep, testLogger, waitFor } from './helpers.ts';
import { CART, FRONTEND, OPS, denied, access, k8sChange, logsOf, normalTraffic, tlsFailure } from './mesh-traffic.ts';
import type { LogRecord } from '../core/model.ts';
import type { MetricsRegistry } from '../core/telemetry/metrics.ts';

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
  cfg.processors.detect = { ...cfg.processors.detect, learning_period: `${LEARNING_MS}ms`, persist_interval: '500ms' };
  cfg.service.telemetry = { metrics: { level: 'none' } };
  tweak(cfg);
  return stringify(cfg);
}

interface Running {
  service: Service;
  url: string;
  query: string;
}

async function start(tweak?: (cfg: Record<string, any>) => void): Promise<Running> {
  const service = new Service(loadConfigText(config(tweak), builtinRegistry()), { logger: testLogger() });
  await service.start();
  const internals = service as unknown as { receivers: Array<{ id: string; component: unknown }>; extensions: Array<{ id: string; component: unknown }> };
  const otlp = internals.receivers.find((r) => r.id === 'otlp')!.component as OtlpReceiver;
  const store = internals.extensions.find((e) => e.id === 'clickhouse_store')!.component as { queryUrl: string };
  return { service, url: `http://${otlp.http!.address}/v1/logs`, query: store.queryUrl };
}

let running: Running | undefined;

interface AlertRow {
  Key: string;
  Detector: string;
  Severity: string;
  Principal: string;
  Reason: string;
  Count: string | number;
  EventIds: string[];
  TraceIds: string[];
  LastSeen: string;
}

async function rows<T>(sql: string): Promise<T[]> {
  const r = await fetch(`${running!.query}/?query=${encodeURIComponent(sql + ' FORMAT JSONEachRow')}`);
  const text = await r.text();
  if (!r.ok) throw new Error(text);
  return text.split('\n').filter(Boolean).map((l) => JSON.parse(l) as T);
}

/** Every alert in audit_alerts, by key (the newest version). */
async function alerts(): Promise<Map<string, AlertRow>> {
  const got = await rows<AlertRow>('SELECT Key, Detector, Severity, Principal, Reason, Count, EventIds, TraceIds, LastSeen FROM otel.audit_alerts FINAL');
  return new Map(got.map((a) => [a.Key, a]));
}

/** Keys of alerts that opened or counted more since `before`. */
function changed(before: Map<string, AlertRow>, now: Map<string, AlertRow>): string[] {
  return [...now.values()].filter((a) => Number(a.Count) > Number(before.get(a.Key)?.Count ?? 0)).map((a) => a.Key).sort();
}
afterAll(async () => {
  await running?.service.shutdown();
});

/** One OTLP/HTTP request; resolves when acknowledged (the spool fsynced it), with that time. */
async function send(records: LogRecord[], service?: string): Promise<number> {
  const r = await fetch(running!.url, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from(encodeLogsProto(logsOf(records, service))) });
  expect(r.status).toBe(200);
  return Date.now();
}

/** Waits until the alerts of `keys` opened or counted more than `before` (within 5 s of `acked`), then 1.5 s more: exactly those. */
async function expectAlerts(before: Map<string, AlertRow>, acked: number, keys: string[]): Promise<Map<string, AlertRow>> {
  let last: string[] = [];
  await waitFor(async () => ((last = changed(before, await alerts())), keys.every((k) => last.includes(k))), 5000 - (Date.now() - acked), `alerts ${keys.join(', ')}`).catch((err: Error) => {
    throw new Error(`${err.message}; changed: ${last.join(', ')}`);
  });
  expect(Date.now() - acked).toBeLessThanOrEqual(5000);
  await sleep(1500);
  const now = await alerts();
  expect(changed(before, now)).toEqual([...keys].sort());
  return now;
}

const PROBE_PATHS = Array.from({ length: 30 }, (_, i) => `/api/${['users', 'cards', 'refunds', 'secrets', 'keys', 'tokens'][i % 6]}/${['list', 'export', 'all', 'dump', 'raw'][i % 5]}`);
const evidence: string[] = [];

describe('detect: the scenarios on the default pipeline', () => {
  it('learns normal traffic, then raises nothing for it', async () => {
    running = await start();
    const learnUntil = Date.now() + LEARNING_MS;
    for (let i = 0; i < 5; i++) await send(normalTraffic(40, i * 40));
    await sleep(Math.max(0, learnUntil - Date.now()) + 200);
    expect([...(await alerts()).keys()]).toEqual([]);
    for (let i = 5; i < 15; i++) await send(normalTraffic(40, i * 40));
    await sleep(2500);
    expect([...(await alerts()).keys()]).toEqual([]);
  }, 60_000);

  it('a compromised service account probing many endpoints: deny surge (principal and destination) and first-seen access', async () => {
    const before = await alerts();
    const acked = await send(PROBE_PATHS.map((p) => denied(CART, 'payments:8080', p)));
    const now = await expectAlerts(before, acked, [`deny_surge|principal|${CART}`, 'deny_surge|destination|payments:8080', `first_seen_access|${CART}|payments:8080`]);
    const surge = now.get(`deny_surge|principal|${CART}`)!;
    expect(Number(surge.Count)).toBeGreaterThanOrEqual(20);
    expect(surge.EventIds.length).toBeGreaterThan(0);
    expect(surge.TraceIds.length).toBeGreaterThan(0);
    // One first-seen signal per new (normalized) path, counted on one alert.
    expect(Number(now.get(`first_seen_access|${CART}|payments:8080`)!.Count)).toBe(new Set(PROBE_PATHS).size);
    evidence.push(...surge.EventIds);
  }, 30_000);

  it('an mTLS misconfiguration after a certificate rotation: an authentication failure burst', async () => {
    const before = await alerts();
    const acked = await send(Array.from({ length: 15 }, () => tlsFailure('10.244.3.9:40000', 'ledger:8443')));
    const now = await expectAlerts(before, acked, ['auth_failure_burst|source|10.244.3.9', 'auth_failure_burst|destination|ledger:8443']);
    expect(now.get('auth_failure_burst|source|10.244.3.9')!.Reason).toMatch(/authentication failures/);
  }, 30_000);

  it('an AuthorizationPolicy deleted by a user: a configuration alert', async () => {
    const before = await alerts();
    const acked = await send([k8sChange('delete', 'authorizationpolicies', 'deny-admin', 'mallory@example.com')]);
    const key = 'config_change|delete|authorizationpolicies.security.istio.io/shop/deny-admin';
    const now = await expectAlerts(before, acked, [key]);
    expect(now.get(key)!.Principal).toBe('mallory@example.com');
    evidence.push(...now.get(key)!.EventIds);
  }, 30_000);

  it('a new principal on /admin/**: sensitive first-seen, and nothing for the operator who is always there', async () => {
    const before = await alerts();
    const acked = await send([access({ principal: FRONTEND, authority: 'billing:8080', path: '/admin/users' }), access({ principal: OPS, authority: 'billing:8080', path: '/admin/users' })]);
    const key = `sensitive_first_seen|${FRONTEND}|billing:8080|/admin/users`;
    const now = await expectAlerts(before, acked, [key]);
    expect(now.get(key)!.Severity).toBe('critical');
    evidence.push(...now.get(key)!.EventIds);
  }, 30_000);

  it('restart mid-scenario: the same probe again raises no duplicate burst', async () => {
    await running!.service.shutdown();
    running = await start();
    const before = await alerts();
    await send(PROBE_PATHS.map((p) => denied(CART, 'payments:8080', p)));
    await send([access({ principal: FRONTEND, authority: 'billing:8080', path: '/admin/users' })]);
    await send(normalTraffic(40, 600));
    await sleep(3500);
    expect(changed(before, await alerts())).toEqual([]);
  }, 60_000);

  it('evidence names audit_events rows by Details[event_id] (detect and audit give one event the same id)', async () => {
    expect(evidence.length).toBeGreaterThan(2);
    const ids = evidence.map((id) => `'${id}'`).join(',');
    await waitFor(async () => {
      const [r] = await rows<{ n: string }>(`SELECT count() AS n FROM otel.audit_events WHERE Details['event_id'] IN (${ids})`);
      return Number(r!.n) === evidence.length;
    }, 40_000, 'evidence rows in audit_events');
    // The audit processor took the detect processor's classification instead of classifying again.
    const reused = (running!.service as unknown as { metrics: MetricsRegistry }).metrics.counter('trailhouse_audit_reused_classifications', '', { processor: 'audit' });
    await waitFor(() => reused.value > 0, 20_000, 'a reused classification');
  }, 60_000);

  it('a service that stopped sending spans is reported after the gap; one that keeps sending logs is not', async () => {
    await running!.service.shutdown();
    running = await start((cfg) => (cfg.processors.detect.detectors = { source_silent: { gap: '2s' } }));
    const traces = running.url.replace('/v1/logs', '/v1/traces');
    const r = await fetch(traces, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from(encodeTracesProto(sampleTraces(2, 'nightly-export'))) });
    expect(r.status).toBe(200);
    const stopAt = Date.now();
    for (let i = 0; i < 10; i++) {
      await send([access({ principal: FRONTEND, authority: 'orders:8080', path: '/api/orders' })], 'steady');
      await sleep(500);
    }
    const now = await alerts();
    const reported = now.get('source_silent|nightly-export');
    expect(reported && Number(reported.Count)).toBe(1);
    expect(now.has('source_silent|steady')).toBe(false);
    // Raised once the gap had passed since its spans, not before.
    expect(Date.parse(reported!.LastSeen.replace(' ', 'T') + 'Z') - stopAt).toBeGreaterThanOrEqual(1900);
  }, 60_000);
});
