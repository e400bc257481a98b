/**
 * Authentication on the query interface, tried as an attacker would, over
 * real HTTP against the real embedded store: every refusal and its status,
 * nothing presented echoed (answers, log lines, stored events, metrics),
 * passwords in URLs, ambiguous and repeated credentials, prototype names,
 * throttling per source, roles, and the access events in audit_events read
 * back with `trailhouse audit --category data_access`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { ClickHouseLogLevel, createClient } from '@clickhouse/client';
import type { CreateSettings } from '../../core/component.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { testHost, testLogger, sampleLogs } from '../../test/helpers.ts';
import { auditCommand, type AuditEventJson } from '../../bin/commands/audit.ts';
import { AuditProcessor } from '../../processors/audit/audit.ts';
import { defaultAuditConfig, type AuditConfig } from '../../processors/audit/config.ts';
import { defaultClickHouseConfig, type ClickHouseConfig } from './config.ts';
import { ClickHouseExporter } from './exporter.ts';
import { ClickHouseExporterComponent } from './factory.ts';
import { acquireQueryServer } from '../../lib/clickhouse/query/query-server.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-qauth-'));
// Distinctive, so a leak anywhere is found by a plain substring search.
const SRE_PW = 'sre-CANARY-pw:with:colons';
const AUDITOR_PW = 'auditor-CANARY-pw';
const WRONG_PW = 'wrong-CANARY-guess';
const URL_PW = 'url-CANARY-secret';
// A password typed into the user field: never logged or stored as a name.
const PW_AS_USER = 'pw CANARY typed as user!';
const CANARIES = [SRE_PW, AUDITOR_PW, WRONG_PW, URL_PW, PW_AS_USER];
const lines: string[] = [];
const metrics = new MetricsRegistry();
let comp: ClickHouseExporterComponent;
let audit: AuditProcessor;
let base = '';

const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const basic = (u: string, p: string) => `Basic ${b64(`${u}:${p}`)}`;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** A raw request: repeated headers as arrays, and a chosen source address. */
function request(url: string, o: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string; localAddress?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: o.method ?? 'POST', headers: o.headers, localAddress: o.localAddress, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(o.method === 'GET' ? undefined : (o.body ?? 'SELECT 1'));
  });
}

function expectNoCanary(where: string, text: string): void {
  for (const c of CANARIES) expect({ where, leaked: text.includes(c) || text.includes(b64(c)) }).toEqual({ where, leaked: false });
}

beforeAll(async () => {
  const d = defaultClickHouseConfig();
  const cfg: ClickHouseConfig = {
    ...d,
    path: dir,
    query_endpoint: '127.0.0.1:0',
    sending_queue: { ...d.sending_queue, enabled: false },
    query_users: {
      sre: { password_bcrypt_hash: bcrypt.hashSync(SRE_PW, 8), password_sha256_hex: null, role: 'reader' },
      soc2: { password_bcrypt_hash: null, password_sha256_hex: createHash('sha256').update(AUDITOR_PW).digest('hex'), role: 'auditor' },
    },
  };
  const logger = testLogger(lines);
  comp = new ClickHouseExporterComponent({ id: 'clickhouse', config: cfg, logger, metrics }, new ClickHouseExporter(cfg, logger, metrics));
  await comp.start(testHost());
  await comp.consumeLogs(sampleLogs(3));
  const acfg: AuditConfig = { ...defaultAuditConfig(), path: dir };
  audit = new AuditProcessor({ id: 'audit', config: acfg, logger: silentLogger, metrics } as CreateSettings<AuditConfig>, { logs: { consumeLogs: async () => undefined } });
  await audit.start(testHost());
  base = `http://${comp.queryAddress}`;
});

afterAll(async () => {
  await audit?.shutdown();
  await comp?.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('credentials, the ways ClickHouse takes them', () => {
  it('@clickhouse/client (Basic) gets in with a bcrypt user; wrong or no password is 516 without the password', async () => {
    const good = createClient({ url: base, username: 'sre', password: SRE_PW, log: { level: ClickHouseLogLevel.OFF } });
    const wrong = createClient({ url: base, username: 'sre', password: WRONG_PW, log: { level: ClickHouseLogLevel.OFF } });
    try {
      expect(await (await good.query({ query: 'SELECT count() AS n FROM otel_logs', format: 'JSONEachRow' })).json()).toEqual([{ n: '3' }]);
      const err = (await wrong.query({ query: 'SELECT 1' }).catch((e: unknown) => e)) as Error & { code?: string; type?: string };
      expect([err.code, err.type]).toEqual(['516', 'AUTHENTICATION_FAILED']);
      expectNoCanary('client error', err.message);
    } finally {
      await Promise.all([good.close(), wrong.close()]);
    }
  });

  it('X-ClickHouse-User/-Key gets in with a sha256 user', async () => {
    const r = await request(base + '/', { headers: { 'X-ClickHouse-User': 'soc2', 'X-ClickHouse-Key': AUDITOR_PW } });
    expect([r.status, r.body]).toEqual([200, '1\n']);
  });

  it('refuses each way in with its status, the Basic challenge on 401, and never the value', async () => {
    const q = `${base}/?query=${encodeURIComponent('SELECT 1')}`;
    const cases: Array<[string, Parameters<typeof request>[1] & { url?: string }, number, RegExp]> = [
      ['no credentials', { method: 'GET' }, 401, /no credentials/],
      ['wrong password', { headers: { Authorization: basic('sre', WRONG_PW) } }, 401, /password is incorrect, or there is no user/],
      ['unknown user', { headers: { Authorization: basic('mallory', WRONG_PW) } }, 401, /password is incorrect, or there is no user/],
      ['password as the sha256 hex itself', { headers: { 'X-ClickHouse-User': 'soc2', 'X-ClickHouse-Key': createHash('sha256').update(AUDITOR_PW).digest('hex') } }, 401, /incorrect/],
      ['prototype user __proto__', { headers: { 'X-ClickHouse-User': '__proto__', 'X-ClickHouse-Key': WRONG_PW } }, 401, /incorrect/],
      ['prototype user constructor', { headers: { Authorization: basic('constructor', '') } }, 401, /incorrect/],
      ['empty password', { headers: { Authorization: basic('sre', '') } }, 401, /incorrect/],
      ['password in the URL', { url: `${q}&user=sre&password=${URL_PW}`, method: 'GET' }, 400, /password in the URL is refused/],
      ['PASSWORD in the URL', { url: `${q}&PassWord=${URL_PW}`, headers: { Authorization: basic('sre', SRE_PW) } }, 400, /password in the URL/],
      ['percent-encoded password in the URL', { url: `${q}&pass%77ord=${URL_PW}`, headers: { Authorization: basic('sre', SRE_PW) } }, 400, /password in the URL/],
      ['a password as the user name', { headers: { Authorization: basic(PW_AS_USER, WRONG_PW) } }, 401, /incorrect/],
      ['empty password in the URL', { url: `${q}&password=`, headers: { Authorization: basic('sre', SRE_PW) } }, 400, /password in the URL/],
      ['Basic and X-ClickHouse-*', { headers: { Authorization: basic('sre', SRE_PW), 'X-ClickHouse-User': 'soc2', 'X-ClickHouse-Key': AUDITOR_PW } }, 400, /two ways/],
      ['Basic and ?user=', { url: `${q}&user=soc2`, headers: { Authorization: basic('sre', SRE_PW) } }, 400, /two ways/],
      ['X-ClickHouse-User and ?user=', { url: `${q}&user=sre`, headers: { 'X-ClickHouse-User': 'soc2', 'X-ClickHouse-Key': AUDITOR_PW } }, 400, /two ways/],
      ['repeated Authorization', { headers: { Authorization: [basic('mallory', WRONG_PW), basic('sre', SRE_PW)] } }, 400, /more than once/],
      ['repeated X-ClickHouse-Key', { headers: { 'X-ClickHouse-User': 'soc2', 'X-ClickHouse-Key': [WRONG_PW, AUDITOR_PW] } }, 400, /more than once/],
      ['Bearer', { headers: { Authorization: `Bearer ${SRE_PW}` } }, 400, /only Basic/],
      ['Basic without a colon', { headers: { Authorization: `Basic ${b64('sre')}` } }, 400, /not base64 of UTF-8 user:password/],
      ['Basic not base64', { headers: { Authorization: 'Basic !!!' } }, 400, /not base64/],
      ['Basic of invalid UTF-8', { headers: { Authorization: `Basic ${Buffer.from([0x73, 0x3a, 0xff, 0xfe]).toString('base64')}` } }, 400, /UTF-8/],
    ];
    for (const [name, o, status, reason] of cases) {
      // Each from its own loopback address: the throttle (5 per source) must not blur the statuses.
      const r = await request(o.url ?? q, { ...o, localAddress: `127.0.${10 + cases.findIndex((c) => c[0] === name)}.1` });
      expect({ name, status: r.status, code: r.headers['x-clickhouse-exception-code'] }).toEqual({ name, status, code: '516' });
      expect(r.body).toMatch(/^Code: 516\. DB::Exception: Authentication failed: .*\(AUTHENTICATION_FAILED\)/);
      expect({ name, reason: reason.test(r.body) }).toEqual({ name, reason: true });
      expect(r.headers['www-authenticate']).toEqual(status === 401 ? 'Basic realm="trailhouse query interface", charset="UTF-8"' : undefined);
      expectNoCanary(name, r.body + JSON.stringify(r.headers));
    }
    // An unknown user and a wrong password are told apart by nothing in the answer.
    const a = await request(q, { headers: { Authorization: basic('sre', WRONG_PW) }, localAddress: '127.0.9.1' });
    const b = await request(q, { headers: { Authorization: basic('nobody', WRONG_PW) }, localAddress: '127.0.9.2' });
    expect(a.body).toBe(b.body);
    expect((await request(`${base}/ping`, { method: 'GET', localAddress: '127.0.9.3' })).status).toBe(200);
  });

  it('passes the role through: the access log says who, with which role', async () => {
    const from = lines.length;
    await request(base + '/', { headers: { Authorization: basic('sre', SRE_PW) }, body: 'SELECT 2' });
    await request(base + '/', { headers: { 'X-ClickHouse-User': 'soc2', 'X-ClickHouse-Key': AUDITOR_PW }, body: 'SELECT 3' });
    const logged = lines.slice(from).map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'query');
    expect(logged.map((l) => [l.user, l.role, l.query, l.status])).toEqual([
      ['sre', 'reader', 'SELECT 2', 200],
      ['soc2', 'auditor', 'SELECT 3', 200],
    ]);
  });
});

describe('failed-login throttling', () => {
  it('answers 429 + Retry-After to the guessing source only, even with the right password; others still get in', async () => {
    const lease = await acquireQueryServer({
      endpoint: '127.0.0.1:0',
      pool: comp.store!.readonly!,
      defaultDatabase: 'otel',
      logger: silentLogger,
      users: { sre: { password_bcrypt_hash: bcrypt.hashSync(SRE_PW, 8), password_sha256_hex: null, role: 'reader' } },
      throttle: { max_failures: 3, window: 60_000, block_duration: 30_000, max_sources: 100 },
    });
    const url = lease.server.url + '/';
    const attacker = '127.0.50.1';
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await request(url, { headers: { Authorization: basic('sre', `${WRONG_PW}${i}`) }, localAddress: attacker })).status);
      expect(statuses).toEqual([401, 401, 401, 429, 429]);
      const blocked = await request(url, { headers: { Authorization: basic('sre', SRE_PW) }, localAddress: attacker });
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers['retry-after'])).toBeGreaterThan(25);
      expect(Number(blocked.headers['retry-after'])).toBeLessThanOrEqual(30);
      expect(blocked.body).toMatch(/too many failed logins/);
      const other = await request(url, { headers: { Authorization: basic('sre', SRE_PW) }, localAddress: '127.0.50.2' });
      expect([other.status, other.body]).toEqual([200, '1\n']);
    } finally {
      await lease.release();
    }
  });
});

describe('fail closed', () => {
  it('refuses to serve without users off loopback unless insecure says so', async () => {
    const o = { pool: comp.store!.readonly!, defaultDatabase: 'otel', logger: silentLogger };
    const err = (await acquireQueryServer({ ...o, endpoint: '0.0.0.0:0' }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/refusing to serve the store without authentication on a non-loopback address .*query_users.*query_insecure: true/);
    const open = await acquireQueryServer({ ...o, endpoint: '0.0.0.0:0', insecure: true });
    await open.release();
    const withUsers = await acquireQueryServer({ ...o, endpoint: '0.0.0.0:0', users: { sre: { password_bcrypt_hash: null, password_sha256_hex: 'a'.repeat(64), role: 'reader' } } });
    await withUsers.release();
  });

  it('a shared endpoint is not served with two configs\' users (one would be dropped)', async () => {
    const o = { pool: comp.store!.readonly!, defaultDatabase: 'otel', logger: silentLogger };
    const probe = await acquireQueryServer({ ...o, endpoint: '127.0.0.1:0' });
    const port = probe.server.port;
    await probe.release();
    const sha = (p: string) => ({ password_bcrypt_hash: null, password_sha256_hex: createHash('sha256').update(p).digest('hex'), role: 'reader' as const });
    const first = await acquireQueryServer({ ...o, endpoint: `127.0.0.1:${port}`, users: { a: sha('x') } });
    try {
      const same = await acquireQueryServer({ ...o, endpoint: `127.0.0.1:${port}`, users: { a: sha('x') } });
      await same.release();
      const err = (await acquireQueryServer({ ...o, endpoint: `127.0.0.1:${port}` }).catch((e: unknown) => e)) as Error;
      expect(err.message).toMatch(/already served with other query_users/);
    } finally {
      await first.release();
    }
  });
});

describe('the store audits access to itself', () => {
  async function auditCli(args: string[]): Promise<AuditEventJson[]> {
    let out = '';
    let errText = '';
    const code = await auditCommand([...args, '--json', '--since', '1h', '--endpoint', base, '--user', 'soc2', '--password', AUDITOR_PW], { out: (s) => (out += s), err: (s) => (errText += s) });
    expect({ code, errText }).toEqual({ code: 0, errText: '' });
    return JSON.parse(out) as AuditEventJson[];
  }

  async function until<T>(read: () => Promise<T>, ok: (v: T) => boolean): Promise<T> {
    for (let i = 0; ; i++) {
      await audit.securityWriter!.flush();
      const v = await read();
      if (ok(v) || i > 40) return v;
      await new Promise((r) => setTimeout(r, 250));
    }
  }

  it('stores every query (who, from where, what, outcome, rows, bytes, duration, role) and every refused login, with no credential anywhere', async () => {
    expect(audit.securityWriter).toBeDefined();
    await request(base + '/', { headers: { Authorization: basic('sre', SRE_PW) }, body: "SELECT Body FROM otel_logs WHERE Body != 'marker-q1'" });
    await request(base + '/', { headers: { Authorization: basic('sre', SRE_PW) }, body: 'DROP TABLE otel.otel_logs' });
    await request(`${base}/?user=sre&password=${URL_PW}`, { body: 'SELECT 1', localAddress: '127.0.60.1' });
    const access = await until(() => auditCli(['--category', 'data_access']), (ev) => ev.some((e) => e.details.sql?.includes('marker-q1')) && ev.some((e) => e.outcome === 'denied'));
    const q1 = access.find((e) => e.details.sql?.includes('marker-q1'))!;
    expect(q1).toMatchObject({ category: 'data_access', action: 'query', outcome: 'allowed', principal: 'sre', source: '127.0.0.1', destination: 'query_interface', resource: 'otel', policy: 'role:reader' });
    expect(q1.details).toMatchObject({ role: 'reader', status: '200', database: 'otel' });
    expect(Number(q1.details.result_rows)).toBeGreaterThanOrEqual(3);
    expect(Number(q1.details.result_bytes)).toBeGreaterThan(0);
    expect(Number(q1.details.duration_ms)).toBeGreaterThanOrEqual(0);
    expect(access.find((e) => e.details.sql === 'DROP TABLE otel.otel_logs')).toMatchObject({ outcome: 'denied', principal: 'sre', details: { status: '403', code: '164' } });
    // The auditor's own `trailhouse audit` queries are in it too.
    expect(access.some((e) => e.principal === 'soc2' && e.policy === 'role:auditor')).toBe(true);
    const auth = await until(() => auditCli(['--category', 'authentication']), (ev) => ev.some((e) => e.source === '127.0.60.1'));
    expect(auth.find((e) => e.source === '127.0.60.1')).toMatchObject({ action: 'login', outcome: 'failure', destination: 'query_interface', details: { status: '400', reason: expect.stringMatching(/password in the URL/) } });
    expect(auth.some((e) => e.principal === 'mallory' && e.details.status === '401')).toBe(true);
    expect(auth.some((e) => e.principal === '(not a user name)')).toBe(true);
    expect(auth.some((e) => e.outcome === 'rate_limited' && e.source === '127.0.50.1')).toBe(true);
    // Nothing presented is stored, logged or exported as a metric.
    const stored = await request(base + '/', { headers: { Authorization: basic('sre', SRE_PW) }, body: 'SELECT * FROM otel.audit_events FORMAT JSONEachRow' });
    expect(stored.status).toBe(200);
    expectNoCanary('audit_events', stored.body);
    expectNoCanary('log lines', lines.join('\n'));
    expectNoCanary('metrics', metrics.exposition());
    expect(metrics.exposition()).toMatch(/trailhouse_query_auth_refused\{outcome="failure"\} [1-9]/);
  });
});
