/**
 * Triage end to end against the real query interface of a running pipeline
 * (clickhouse_store with users, audit writing audit_events, the alerts
 * extension): `trailhouse alerts` lists, `alerts ack|resolve` changes the
 * status as the authenticated responder, each change lands in audit_events;
 * and the ways it is refused. Also the brute-force detector over refused
 * logins on the same interface.
 */
import { createHash } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { alertsCommand } from '../bin/commands/alerts.ts';
import { select } from '../bin/commands/oncall-http.ts';
import type { AlertsExtension } from '../extensions/alerts/alerts.ts';
import { signal } from '../extensions/alerts/fixture.test-helper.ts';
import { waitFor } from './helpers.ts';
import { startInTempDir, type RunningService } from './service.ts';
import { freePort } from './process.ts';

const sha = (p: string) => createHash('sha256').update(p).digest('hex');
const PW = { rita: 'responder-pw', sam: 'reader-pw', ada: 'auditor-pw' };

let r: RunningService & { dir: string };
let alerts: AlertsExtension;
let otlpPort = 0;
const yaml = (dir: string) => `
extensions:
  clickhouse_store:
    path: ${dir}
    query_endpoint: "127.0.0.1:0"
    query_login_throttle: {max_failures: 10000, window: 1m, block_duration: 1s}
    query_users:
      rita: {password_sha256_hex: ${sha(PW.rita)}, role: responder}
      sam: {password_sha256_hex: ${sha(PW.sam)}, role: reader}
      ada: {password_sha256_hex: ${sha(PW.ada)}, role: auditor}
  bearertokenauth:
    tokens:
      - {token: "the-right-token", subject: acme}
  file_storage: {directory: ${dir}/queue}
  alerts:
    store: clickhouse_store
    flush_interval: 100ms
    storage: file_storage
    # Delivered to this very pipeline's OTLP receiver, through its token authentication.
    otlp: {endpoint: "http://127.0.0.1:${otlpPort}/v1/logs", headers: {authorization: "Bearer the-right-token"}}
    bruteforce: {window: 1m, min_failures: 4}
receivers:
  otlp: {protocols: {http: {endpoint: "127.0.0.1:${otlpPort}", auth: {authenticator: bearertokenauth}}}}
processors:
  audit: {store: clickhouse_store}
exporters:
  clickhouse: {store: clickhouse_store, sending_queue: {enabled: false}}
service:
  extensions: [clickhouse_store, bearertokenauth, file_storage, alerts]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [audit], exporters: [clickhouse]}
`;

beforeAll(async () => {
  otlpPort = await freePort();
  r = await startInTempDir('th-alerts-triage-', yaml);
  alerts = (r.service as unknown as { extensions: Array<{ id: string; component: unknown }> }).extensions.find((e) => e.id === 'alerts')!.component as AlertsExtension;
});
afterAll(async () => {
  await r?.stop();
});

function cli(...argv: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  return alertsCommand([...argv, '--endpoint', r.queryUrl], { out: (s) => void (out += s), err: (s) => void (err += s) }).then((code) => ({ code, out, err }));
}
const as = (user: keyof typeof PW) => ['--user', user, '--password', PW[user]];
const conn = (user: keyof typeof PW) => ({ endpoint: r.queryUrl, database: 'otel', user, password: PW[user] });

async function openAlert(key: string): Promise<string> {
  alerts.raise(signal({ key }));
  await alerts.flushForTest();
  const rows = await select<{ Id: string }>(conn('sam'), `SELECT Id FROM audit_alerts FINAL WHERE Key = {k:String}`, { k: key });
  return rows[0]!.Id;
}

function post(path: string, body: string, headers: Record<string, string> = {}, user: keyof typeof PW | null = 'rita'): Promise<Response> {
  const auth: Record<string, string> = user ? { 'X-ClickHouse-User': user, 'X-ClickHouse-Key': PW[user] } : {};
  return fetch(`${r.queryUrl}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...auth, ...headers }, body });
}

describe('alert triage', () => {
  it('lists alerts, acknowledges and resolves them as the responder; each change is an audit event', async () => {
    const id = await openAlert('triage-flow');
    const list = await cli('--json', ...as('sam'));
    expect(list.code).toBe(0);
    const listed = JSON.parse(list.out) as Array<{ id: string; status: string; trace_ids: string[] }>;
    expect(listed.find((a) => a.id === id)).toMatchObject({ status: 'open' });
    const text = await cli(...as('ada'));
    expect(text.code).toBe(0);
    expect(text.out).toContain(id);
    expect(text.out).toMatch(/trailhouse trace [0-9a-f]{32}/);

    const ack = await cli('ack', id, '--note', 'looking at it', ...as('rita'));
    expect(ack).toMatchObject({ code: 0, out: `alert ${id} acknowledged by rita\n` });
    const resolved = await cli('resolve', id, '--note', "rotated the cart SA's key", ...as('rita'));
    expect(resolved.code).toBe(0);
    const again = await cli('resolve', id, '--note', 'twice', ...as('rita'));
    expect(again.code).toBe(1);
    expect(again.err).toMatch(/HTTP 409.*already resolved/);

    const stored = await select<{ Status: string; StatusBy: string; Note: string }>(conn('sam'), 'SELECT Status, StatusBy, Note FROM audit_alerts FINAL WHERE Id = {id:String}', { id });
    expect(stored).toEqual([{ Status: 'resolved', StatusBy: 'rita', Note: "rotated the cart SA's key" }]);
    const onlyOpen = await cli('--status', 'open', '--json', ...as('sam'));
    expect((JSON.parse(onlyOpen.out) as Array<{ id: string }>).some((a) => a.id === id)).toBe(false);

    const events = await waitFor(async () => {
      const rows = await select<{ Action: string; Outcome: string; Principal: string; Details: Record<string, string> }>(
        conn('ada'),
        "SELECT Action, Outcome, Principal, Details FROM audit_events WHERE Category = 'configuration' AND Details['alert_id'] = {id:String} ORDER BY Timestamp",
        { id },
      );
      return rows.length >= 2 ? rows : undefined;
    }, 20_000, 'the two triage audit events');
    expect(events.map((e) => [e.Action, e.Outcome, e.Principal])).toEqual([
      ['alert.acknowledge', 'success', 'rita'],
      ['alert.resolve', 'success', 'rita'],
    ]);
    expect(events[0]!.Details).toMatchObject({ note: 'looking at it', status_from: 'open', status_to: 'acknowledged', role: 'responder' });
  });

  it('refuses other roles and missing or wrong credentials, with the reason', async () => {
    const id = await openAlert('triage-refused');
    for (const user of ['sam', 'ada'] as const) {
      const res = await cli('ack', id, '--note', 'n', ...as(user));
      expect(res.code).toBe(1);
      expect(res.err).toMatch(/HTTP 403.*may not triage alerts \(role responder may\)/);
    }
    expect((await post(`/alerts/${id}/ack`, '{"note":"x"}', {}, null)).status).toBe(401);
    expect((await post(`/alerts/${id}/ack`, '{"note":"x"}', { 'X-ClickHouse-User': 'rita', 'X-ClickHouse-Key': 'wrong' }, null)).status).toBe(401);
    const stored = await select<{ Status: string }>(conn('sam'), 'SELECT Status FROM audit_alerts FINAL WHERE Id = {id:String}', { id });
    expect(stored[0]!.Status).toBe('open');
    await waitFor(async () => {
      const rows = await select<{ n: string }>(conn('ada'), "SELECT count() AS n FROM audit_events WHERE Outcome = 'denied' AND Action = 'alert.acknowledge' AND Details['alert_id'] = {id:String}", { id });
      return rows[0]!.n === '2';
    }, 20_000, 'the refused triage attempts in audit_events');
  });

  it('fails closed on odd ids, bodies and notes; SQL in a note is just text', async () => {
    const id = await openAlert('triage-hostile');
    const cases: Array<[string, string, Record<string, string>, number, RegExp]> = [
      [`/alerts/${id.toUpperCase()}/ack`, '{"note":"x"}', {}, 400, /16 hex/],
      [`/alerts/${id}0/ack`, '{"note":"x"}', {}, 400, /16 hex/],
      ["/alerts/1' OR '1'='1/ack", '{"note":"x"}', {}, 400, /16 hex/],
      [`/alerts/..%2f..%2fetc/ack`, '{"note":"x"}', {}, 400, /16 hex/],
      [`/alerts/${id}/ack/more`, '{"note":"x"}', {}, 400, /16 hex/],
      [`/alerts/${id}/delete`, '{"note":"x"}', {}, 404, /ack or resolve/],
      ['/alerts/0123456789abcdef/ack', '{"note":"x"}', {}, 404, /no alert/],
      [`/alerts/${id}/ack`, 'note=x', {}, 400, /JSON object/],
      [`/alerts/${id}/ack`, '["x"]', {}, 400, /JSON object/],
      [`/alerts/${id}/ack`, '{"note":""}', {}, 400, /note is required/],
      [`/alerts/${id}/ack`, '{"note":"x","status":"resolved"}', {}, 400, /unknown key/],
      [`/alerts/${id}/ack`, JSON.stringify({ note: 'x'.repeat(5000) }), {}, 400, /longer than 4096/],
      [`/alerts/${id}/ack`, JSON.stringify({ note: 'a\u0000b' }), {}, 400, /control characters/],
      [`/alerts/${id}/ack`, JSON.stringify({ note: 'y'.repeat(20_000) }), {}, 413, /larger than/],
      [`/alerts/${id}/ack`, '{"note":"x"}', { 'content-type': 'text/plain' }, 415, /application\/json/],
    ];
    for (const [path, body, headers, status, reason] of cases) {
      const res = await post(path, body, headers);
      const text = await res.text();
      expect([path, res.status]).toEqual([path, status]);
      expect(text).toMatch(reason);
    }
    expect((await fetch(`${r.queryUrl}/alerts/${id}/ack`, { headers: { 'X-ClickHouse-User': 'rita', 'X-ClickHouse-Key': PW.rita } })).status).toBe(405);
    expect((await cli('ack', 'nothex', '--note', 'x', ...as('rita'))).code).toBe(2);
    expect((await cli('ack', id, ...as('rita'))).code).toBe(2);

    const sql = "'); DROP TABLE otel.audit_alerts; -- \\' \" `";
    const res = await post(`/alerts/${id}/ack`, JSON.stringify({ note: sql }));
    expect(res.status).toBe(200);
    const stored = await select<{ Note: string }>(conn('sam'), 'SELECT Note FROM audit_alerts FINAL WHERE Id = {id:String}', { id });
    expect(stored).toEqual([{ Note: sql }]);
  });

  it('a body sent half and abandoned is refused without harm; the interface goes on', async () => {
    const id = await openAlert('triage-half');
    const u = new URL(r.queryUrl);
    await new Promise<void>((resolve, reject) => {
      const s = net.connect(Number(u.port), u.hostname, () => {
        s.write(
          `POST /alerts/${id}/ack HTTP/1.1\r\nHost: x\r\nX-ClickHouse-User: rita\r\nX-ClickHouse-Key: ${PW.rita}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"note":"par`,
        );
        setTimeout(() => {
          s.destroy();
          resolve();
        }, 200);
      });
      s.on('error', reject);
    });
    await new Promise((res) => setTimeout(res, 200));
    const stored = await select<{ Status: string }>(conn('sam'), 'SELECT Status FROM audit_alerts FINAL WHERE Id = {id:String}', { id });
    expect(stored[0]!.Status).toBe('open');
    expect((await post(`/alerts/${id}/ack`, '{"note":"whole this time"}')).status).toBe(200);
  });

  it('GET /alerts/<id> reads one alert', async () => {
    const id = await openAlert('triage-get');
    const res = await fetch(`${r.queryUrl}/alerts/${id}`, { headers: { 'X-ClickHouse-User': 'sam', 'X-ClickHouse-Key': PW.sam } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { alert: { id: string; key: string } }).alert).toMatchObject({ id, key: 'triage-get' });
  });

  it('repeated refused logins on the query interface raise receiver_auth_bruteforce', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`${r.queryUrl}/?query=SELECT%201`, { headers: { 'X-ClickHouse-User': 'mallory', 'X-ClickHouse-Key': `guess${i}` } });
      expect(res.status).toBe(401);
    }
    const rows = await waitFor(async () => {
      const a = await select<{ Destination: string; Source: string; Count: string; Users: string }>(
        conn('sam'),
        "SELECT Destination, Source, toString(Count) AS Count, Details['claimed_users'] AS Users FROM audit_alerts FINAL WHERE Detector = 'receiver_auth_bruteforce'",
      );
      return a.length ? a : undefined;
    }, 10_000, 'the brute-force alert');
    // The earlier tests' refused requests came from the same address: they count too.
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ Destination: 'query_interface', Source: '127.0.0.1' });
    expect(Number(rows[0]!.Count)).toBeGreaterThanOrEqual(4);
    expect(rows[0]!.Users.split(',')).toContain('mallory');
  });

  it('repeated refused tokens on an OTLP receiver raise receiver_auth_bruteforce for that receiver', async () => {
    for (let i = 0; i < 4; i++) {
      const res = await fetch(`http://${r.otlp.http!.address}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer wrong-${i}` }, body: '{}' });
      expect(res.status).toBe(401);
    }
    const rows = await waitFor(async () => {
      const a = await select<{ Source: string; Count: string }>(
        conn('sam'),
        "SELECT Source, toString(Count) AS Count FROM audit_alerts FINAL WHERE Detector = 'receiver_auth_bruteforce' AND Destination = 'receiver/otlp'",
      );
      return a.length ? a : undefined;
    }, 10_000, 'the receiver brute-force alert');
    expect(rows).toEqual([{ Source: '127.0.0.1', Count: '4' }]);
  });

  it('alerts delivered as OTLP log records to trailhouse itself land in otel_logs', async () => {
    const id = await openAlert('triage-otlp-self');
    const rows = await waitFor(async () => {
      const a = await select<{ Body: string; Detector: string; Sev: string }>(
        conn('sam'),
        "SELECT Body, LogAttributes['alert.detector'] AS Detector, SeverityText AS Sev FROM otel_logs WHERE ServiceName = 'trailhouse' AND LogAttributes['alert.id'] = {id:String}",
        { id },
      );
      return a.length ? a : undefined;
    }, 15_000, 'the alert as a log record in otel_logs');
    expect(rows[0]).toEqual({ Body: '40 denials in 1m (baseline 2)', Detector: 'deny_surge', Sev: 'WARNING' });
  });
});
