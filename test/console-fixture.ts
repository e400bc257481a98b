/**
 * A running pipeline with the console for the console tests: the store with
 * users of each role, audit + correlate writing, the alerts extension, the
 * console on a free port; and a denied request sent as real OTLP (its
 * trace's spans and the access log the mesh wrote), with markup in the
 * principal.
 */
import { createHash } from 'node:crypto';
import type { AlertsExtension } from '../extensions/alerts/alerts.ts';
import type { ConsoleExtension } from '../extensions/console/console.ts';
import { createClient } from '@clickhouse/client';
import { waitFor } from './helpers.ts';
import { startInTempDir, type RunningService } from './service.ts';

const sha = (p: string) => createHash('sha256').update(p).digest('hex');
export const PW = { rita: 'responder-pw', sam: 'reader-pw', ada: 'auditor-pw' } as const;
export const TRACE = 'c0ffee00000000000000000000000001';
export const ROOT_SPAN = '1000000000000001';
export const DENIED_SPAN = '1000000000000002';
export const EVIL = 'spiffe://cluster.local/ns/x/sa/<script>alert(1)</script></svg>"\'';

const yaml = (dir: string) => `
extensions:
  clickhouse_store:
    path: ${dir}
    query_endpoint: "127.0.0.1:0"
    query_login_throttle: {max_failures: 50, window: 1m, block_duration: 1s}
    query_users:
      rita: {password_sha256_hex: ${sha(PW.rita)}, role: responder}
      sam: {password_sha256_hex: ${sha(PW.sam)}, role: reader}
      ada: {password_sha256_hex: ${sha(PW.ada)}, role: auditor}
  file_storage: {directory: ${dir}/queue}
  alerts: {store: clickhouse_store, flush_interval: 100ms}
  console: {endpoint: "127.0.0.1:0", store: clickhouse_store, alerts: alerts}
receivers:
  otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}
processors:
  correlate: {wait: 500ms, store: clickhouse_store}
  audit: {store: clickhouse_store}
exporters:
  clickhouse: {store: clickhouse_store, sending_queue: {enabled: false}}
service:
  extensions: [clickhouse_store, file_storage, alerts, console]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [correlate, audit], exporters: [clickhouse]}
    traces: {receivers: [otlp], processors: [correlate], exporters: [clickhouse]}
`;

export interface ConsoleFixture extends RunningService {
  dir: string;
  url: string;
  alerts: AlertsExtension;
}

function ext<T>(r: RunningService, id: string): T {
  return (r.service as unknown as { extensions: Array<{ id: string; component: unknown }> }).extensions.find((e) => e.id === id)!.component as T;
}

export async function startConsole(): Promise<ConsoleFixture> {
  const r = await startInTempDir('th-console-', yaml);
  // The store has users: the test reads it as the reader.
  const ch = createClient({ url: r.queryUrl, username: 'sam', password: PW.sam });
  const rows = async <T>(query: string) => (await ch.query({ query, format: 'JSONEachRow' })).json<T>();
  const waitRows = async <T>(query: string, done: (rows: T[]) => boolean, what: string, timeoutMs = 30_000) => {
    let last: T[] = [];
    return waitFor(async () => ((last = await rows<T>(query)), done(last) ? last : undefined), timeoutMs, what).catch((err: Error) => {
      throw new Error(`${err.message}; last rows: ${JSON.stringify(last)}`);
    });
  };
  return {
    ...r,
    rows,
    waitRows,
    stop: async () => {
      await ch.close();
      await r.stop();
    },
    url: ext<ConsoleExtension>(r, 'console').url,
    alerts: ext<AlertsExtension>(r, 'alerts'),
  };
}

const str = (key: string, v: string) => ({ key, value: { stringValue: v } });

/** The denied request: two spans (ingress → orders, the second refused) and the mesh's access log on the refused span. */
export async function sendDenied(r: ConsoleFixture): Promise<void> {
  const base = `http://${r.otlp.http!.address}`;
  const now = BigInt(Date.now()) * 1_000_000n;
  const ms = 1_000_000n;
  const traces = {
    resourceSpans: [
      {
        resource: { attributes: [str('service.name', 'istio-ingressgateway')] },
        scopeSpans: [{ spans: [
          { traceId: TRACE, spanId: ROOT_SPAN, name: 'GET /admin/users', kind: 2, startTimeUnixNano: String(now), endTimeUnixNano: String(now + 40n * ms), attributes: [str('http.route', '/admin/users')], status: { code: 2, message: 'denied downstream' } },
          { traceId: TRACE, spanId: DENIED_SPAN, parentSpanId: ROOT_SPAN, name: 'orders /admin/users', kind: 3, startTimeUnixNano: String(now + 5n * ms), endTimeUnixNano: String(now + 30n * ms), attributes: [str('peer.service', 'orders')],
            events: [{ timeUnixNano: String(now + 10n * ms), name: 'rbac.check', attributes: [str('result', 'deny')] }], status: { code: 2 } },
        ] }],
      },
    ],
  };
  const logs = {
    resourceLogs: [
      {
        resource: { attributes: [str('service.name', 'istio-ingressgateway')] },
        scopeLogs: [{ logRecords: [
          { timeUnixNano: String(now + 20n * ms), traceId: TRACE, spanId: DENIED_SPAN, body: { stringValue: 'GET /admin/users 403' },
            attributes: [{ key: 'http.response.status_code', value: { intValue: '403' } }, str('url.path', '/admin/users'), str('http.request.method', 'GET'),
              str('response_code_details', 'rbac_access_denied_matched_policy[ns[default]-policy[deny-admin]-rule[0]]'), str('downstream_peer_uri_san', EVIL)] },
          { timeUnixNano: String(now - 2000n * ms), body: { stringValue: 'warming cache before the request' } },
        ] }],
      },
    ],
  };
  for (const [path, body] of [['/v1/traces', traces], ['/v1/logs', logs]] as const) {
    const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  }
}

/** Logs in with a form POST; the session cookie. */
export async function login(url: string, user: keyof typeof PW | string, password: string): Promise<{ status: number; cookie: string; location: string }> {
  const res = await fetch(`${url}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ user, password }).toString() });
  await res.text();
  return { status: res.status, cookie: (res.headers.get('set-cookie') ?? '').split(';')[0]!, location: res.headers.get('location') ?? '' };
}
