/**
 * The console's own parts: sessions (expiry, fixation, duplicate cookies),
 * the resource glob, and the server without users, with TLS and under
 * login throttling, on a real embedded store.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { onSecurityEvent, type SecurityEvent } from '../../core/security-events.ts';
import { auditTableSql } from '../audit/schema.ts';
import { openStore, type Store, type StoreLease } from '../clickhouse/store.ts';
import { testLogger } from '../../test/helpers.ts';
import { ConsoleAuth } from './auth.ts';
import { globRegex } from './pages/audit.ts';
import { ConsoleQuery, ConsoleQueryError, type Caller } from './query.ts';
import { ConsoleServer, type ConsoleServerOptions } from './server.ts';
import { cookieValue, csrfOk, Sessions } from './sessions.ts';

describe('sessions', () => {
  it('end after the idle time and after the lifetime, whatever the activity', () => {
    let t = 0;
    const s = new Sessions({ lifetimeMs: 1000, idleMs: 300, max: 10 }, () => t);
    const a = s.create('sam', 'reader');
    const cookie = `th_console=${a.id}`;
    t = 200;
    expect(s.find(cookie)?.session.user).toBe('sam');
    t = 450;
    expect(s.find(cookie)).toBeDefined(); // 250 ms idle
    t = 800;
    expect(s.find(cookie)).toBeUndefined(); // 350 ms idle
    const b = s.create('sam', 'reader');
    for (t = 900; t < 1900; t += 250) expect(s.find(`th_console=${b.id}`)).toBeDefined();
    t = 1950;
    expect(s.find(`th_console=${b.id}`)).toBeUndefined(); // lifetime over
  });

  it('never adopts a presented id, refuses malformed and repeated cookies, stays bounded', () => {
    const s = new Sessions({ lifetimeMs: 60_000, idleMs: 60_000, max: 3 });
    const a = s.create('sam', 'reader');
    expect(s.find(`th_console=${'A'.repeat(43)}`)).toBeUndefined();
    expect(s.find(`th_console=${a.id}x`)).toBeUndefined();
    expect(s.find(`th_console=${a.id}; th_console=${a.id}`)).toBeUndefined();
    expect(cookieValue(`x=1; th_console=${a.id}`, 'th_console')).toBe(a.id);
    for (let i = 0; i < 5; i++) s.create(`u${i}`, 'reader');
    expect(s.size).toBe(3);
    expect(s.find(`th_console=${a.id}`)).toBeUndefined(); // the oldest went
    const b = s.create('rita', 'responder');
    expect(csrfOk(b.session, b.session.csrf)).toBe(true);
    expect(csrfOk(b.session, `${b.session.csrf.slice(0, -1)}x`)).toBe(false);
    expect(csrfOk(b.session, undefined)).toBe(false);
    expect(s.cookie(b.id, true)).toMatch(/HttpOnly; SameSite=Strict; Max-Age=60; Secure$/);
  });
});

describe('resource glob', () => {
  it('matches * and ? and nothing else specially', () => {
    const re = (g: string) => new RegExp(globRegex(g));
    expect(re('/admin/*').test('/admin/users/1')).toBe(true);
    expect(re('/admin/*').test('/api/admin/x')).toBe(false);
    expect(re('/v?/x').test('/v2/x')).toBe(true);
    expect(re('/a.b(c)').test('/aXb(c)')).toBe(false);
    expect(re('/a.b(c)').test('/a.b(c)')).toBe(true);
  });
});

const sha = (p: string) => createHash('sha256').update(p).digest('hex');
let dir: string;
let lease: StoreLease;
const events: SecurityEvent[] = [];
let stopEvents: () => void;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'th-console-unit-'));
  lease = openStore({ endpoint: null, path: dir, username: '', password: '' });
  await lease.store.ready();
  await lease.store.command('CREATE DATABASE IF NOT EXISTS otel');
  await lease.store.command(auditTableSql({ database: 'otel', table: 'audit_events', ttlMs: 0 }));
  await lease.store.command("INSERT INTO otel.audit_events (Timestamp, Category, Action, Outcome, Principal) VALUES (now64(9), 'authorization', 'rbac', 'denied', 'p1'), (fromUnixTimestamp64Nano(1700000000000000000), 'authorization', 'rbac', 'denied', 'old')");
  stopEvents = onSecurityEvent((e) => void events.push(e));
}, 60_000);

afterAll(async () => {
  stopEvents?.();
  await lease?.release();
  rmSync(dir, { recursive: true, force: true });
});

function server(over: Partial<ConsoleServerOptions> & { users?: Record<string, { password_sha256_hex: string; role: 'reader' }> | null; maxFailures?: number }): ConsoleServer {
  const logger = testLogger();
  return new ConsoleServer({
    endpoint: '127.0.0.1:0',
    tls: null,
    insecure: false,
    query: new ConsoleQuery(lease.store, 'otel'),
    auth: new ConsoleAuth(
      over.users ? Object.fromEntries(Object.entries(over.users).map(([k, u]) => [k, { ...u, password_bcrypt_hash: null }])) : null,
      { max_failures: over.maxFailures ?? 5, window: 60_000, block_duration: 60_000, max_sources: 100 },
      logger,
    ),
    sessions: { lifetimeMs: 3_600_000, idleMs: 600_000, max: 100 },
    triage: null,
    logger,
    ...over,
  });
}

describe('console queries', () => {
  it('admit by role on the embedded pool and through an ordinary client (the ClickHouse server path)', async () => {
    await lease.store.command('CREATE TABLE IF NOT EXISTS otel.otel_logs (Body String) ENGINE = MergeTree ORDER BY tuple()');
    const viaClient = { kind: 'server', readonly: null, get client() { return lease.store.client; } } as unknown as Store;
    const reader: Caller = { user: 'sam', role: 'reader', remote: '127.0.0.1', authenticated: true };
    const auditor: Caller = { user: 'ada', role: 'auditor', remote: '127.0.0.1', authenticated: true };
    // The embedded engine's client has no default database (a server's console client has): qualified names here.
    for (const [q, db] of [[new ConsoleQuery(lease.store, 'otel'), ''], [new ConsoleQuery(viaClient, 'otel'), 'otel.']] as const) {
      expect(await q.select(reader, `SELECT count() AS n FROM ${db}otel_logs`)).toEqual([{ n: '0' }]);
      expect((await q.select(auditor, `SELECT Principal FROM ${db}audit_events WHERE Principal = {p:String}`, { p: 'p1' })).length).toBe(1);
      const refused = await q.select(auditor, `SELECT count() FROM ${db}otel_logs`).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(ConsoleQueryError);
      expect((refused as ConsoleQueryError).refused).toBe(true);
      // A value is a literal, never SQL; a backslash stays a backslash.
      expect(await q.select(reader, 'SELECT {v:String} AS v', { v: "a\\' OR 1=1 --" })).toEqual([{ v: "a\\' OR 1=1 --" }]);
      const write = await q.select(reader, `INSERT INTO ${db}otel_logs VALUES ('x')`).catch((e: unknown) => e);
      expect(write, String(write)).toBeInstanceOf(ConsoleQueryError);
      expect((write as ConsoleQueryError).refused, `${(write as ConsoleQueryError).code} ${(write as Error).message}`).toBe(true);
    }
  });
});

describe('console server', () => {
  it('without users: the loopback reader reads, triage is refused, a non-loopback address is refused', async () => {
    const s = server({});
    await s.start();
    try {
      const page = await fetch(`${s.url}/audit?outcome=denied`);
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('1 audit events');
      // range=all reaches a row of any age (the README walkthrough's 2023 one).
      const all = (await (await fetch(`${s.url}/api/audit?range=all&principal=old`)).json()) as { total: number; from: string };
      expect(all.total).toBe(1);
      expect(all.from).toBe('1700000000000000000');
      expect((await fetch(`${s.url}/login`, { redirect: 'manual' })).headers.get('location')).toBe('/audit');
      const post = await fetch(`${s.url}/alerts/0123456789abcdef/triage`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'action=ack&note=x' });
      expect(post.status).toBe(403);
    } finally {
      await s.close();
    }
    await expect(server({ endpoint: '0.0.0.0:0' }).start()).rejects.toThrow(/without users on a non-loopback address/);
  });

  it('without a signing key: a report set is rendered unsigned, labelled so, with no report.sig; another user gets none of it', async () => {
    // The one-column otel_logs of the admission test would fail the report's figures (rightly: fail closed).
    await lease.store.command('DROP TABLE IF EXISTS otel.otel_logs');
    const s = server({});
    await s.start();
    try {
      const render = await fetch(`${s.url}/reports/render?from=2023-11-01&to=2023-12-01`, { redirect: 'manual' });
      expect(render.status, await render.text()).toBe(303);
      const at = render.headers.get('location')!;
      expect(at).toMatch(/^\/reports\/[0-9a-f]{32}$/);
      const setPage = await (await fetch(`${s.url}${at}`)).text();
      expect(setPage).toContain('UNSIGNED');
      expect(setPage).not.toContain('report.sig');
      expect((await fetch(`${s.url}${at}/report.sig`)).status).toBe(400);
      const json = await fetch(`${s.url}${at}/report.json`);
      expect(json.headers.get('content-disposition')).toBe('attachment; filename="report.json"');
      expect(((await json.json()) as { signedBy: unknown }).signedBy).toBeNull();
      expect((await fetch(`${s.url}/reports/${'0'.repeat(32)}/report.json`)).status).toBe(404);
      expect((await (await fetch(`${s.url}/reports`)).text())).toContain('<strong>unsigned</strong>');
    } finally {
      await s.close();
    }
  });

  it('throttles failed logins as the query interface does, and raises them as events', async () => {
    const s = server({ users: { sam: { password_sha256_hex: sha('pw'), role: 'reader' } }, maxFailures: 3 });
    await s.start();
    try {
      const login = (password: string) => fetch(`${s.url}/login`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `user=sam&password=${password}` });
      for (let i = 0; i < 3; i++) expect((await login('wrong')).status).toBe(401);
      const blocked = await login('pw'); // the right password, but the source is blocked
      expect(blocked.status).toBe(429);
      expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
      expect((await fetch(`${s.url}/audit`)).status).toBe(429);
      const mine = events.filter((e) => e.surface === 'console' && e.category === 'authentication');
      expect(mine.filter((e) => e.outcome === 'failure').length).toBeGreaterThanOrEqual(3);
      expect(mine.some((e) => e.outcome === 'rate_limited')).toBe(true);
      expect(JSON.stringify(mine, (_k, v: unknown) => (typeof v === 'bigint' ? String(v) : v))).not.toContain('wrong');
    } finally {
      await s.close();
    }
  });

  it('under TLS: the session cookie is Secure and HSTS is sent', async () => {
    const tlsDir = 'test/testdata/tls';
    const s = server({ users: { sam: { password_sha256_hex: sha('pw'), role: 'reader' } }, tls: { cert_file: `${tlsDir}/server.crt`, key_file: `${tlsDir}/server.key`, client_ca_file: null, min_version: '1.2' } });
    await s.start();
    try {
      expect(s.url).toMatch(/^https:/);
      const u = new URL(s.url);
      const res = await new Promise<{ status: number; headers: Record<string, unknown> }>((resolve, reject) => {
        const req = https.request({ host: u.hostname, port: u.port, path: '/login', method: 'POST', ca: readFileSync(`${tlsDir}/ca.crt`), servername: 'localhost', headers: { 'content-type': 'application/x-www-form-urlencoded' } }, (r) => {
          r.resume();
          resolve({ status: r.statusCode ?? 0, headers: r.headers });
        });
        req.on('error', reject);
        req.end('user=sam&password=pw');
      });
      expect(res.status).toBe(303);
      expect(String((res.headers['set-cookie'] as string[])[0])).toMatch(/; Secure$/);
      expect(res.headers['strict-transport-security']).toBe('max-age=31536000');
    } finally {
      await s.close();
    }
  });
});
