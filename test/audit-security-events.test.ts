/**
 * `processors.audit.security_events`: which audit processor stores the
 * process's own security events (queries of the store, refused logins). With
 * false, the store is queried and nothing lands in that processor's table,
 * while its classified events still do.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startInTempDir, type RunningService } from './service.ts';

let running: RunningService & { dir: string };

beforeAll(async () => {
  running = await startInTempDir(
    'th-audit-secevents-',
    (dir) => `
receivers:
  otlp:
    protocols: {http: {endpoint: "127.0.0.1:0"}}
processors:
  audit: {path: ${dir}, security_events: false, integrity: {enabled: false}}
exporters:
  clickhouse: {path: ${dir}, query_endpoint: "127.0.0.1:0", sending_queue: {enabled: false}}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [audit], exporters: [clickhouse]}
`,
  );
}, 60_000);

afterAll(async () => {
  await running?.stop();
});

describe('audit processor security_events: false', () => {
  it('stores the classified events, not the queries of the store', async () => {
    const res = await fetch(`http://${running.otlp.http!.address}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        resourceLogs: [{ scopeLogs: [{ logRecords: [{ timeUnixNano: String(Date.now() * 1e6), body: { stringValue: 'GET /admin 403' }, attributes: [
          { key: 'http.response.status_code', value: { intValue: '403' } },
          { key: 'url.path', value: { stringValue: '/admin' } },
          { key: 'response_code_details', value: { stringValue: 'rbac_access_denied_matched_policy[ns[default]-policy[deny-admin]-rule[0]]' } },
        ] }] }] }],
      }),
    });
    expect(res.status).toBe(200);
    await running.waitRows<{ n: string }>("SELECT toString(count()) AS n FROM otel.audit_events WHERE Category = 'authorization'", (r) => Number(r[0]?.n) >= 1, 'the denial');
    // The security event writer flushes every 5 s: past that, the queries above would have landed.
    await new Promise((r) => setTimeout(r, 6_000));
    const rows = await running.rows<{ n: string }>("SELECT toString(count()) AS n FROM otel.audit_events WHERE Category = 'data_access'");
    expect(rows[0]!.n).toBe('0');
  }, 30_000);
});
