/**
 * The triage routes attacked through the real query interface (QueryServer:
 * its authentication, throttle and routing) over raw HTTP, with the alert
 * store faked (it only counts what reached it): credentials, roles, path
 * tricks, bodies, content types, hostile JSON, and the audit event of every
 * refusal.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { watchSecurityEvents, type SecurityEvent } from '../../core/security-events.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { QueryServer } from '../clickhouse/query/query-server.ts';
import { ReadonlyPool } from '../clickhouse/query/readonly-pool.ts';
import { withStatus, type Alert } from './alert.ts';
import { AlertBook } from './book.ts';
import { triageRoute, type TriageService } from './triage.ts';

const sha = (p: string) => createHash('sha256').update(p).digest('hex');
const PW = { rita: 'rita-pw', sam: 'sam-pw', ada: 'ada-pw' };
const dir = mkdtempSync(join(tmpdir(), 'th-triage-attack-'));
const alert: Alert = new AlertBook(1_000_000_000n, 1).raise({
  detector: 'config_change', severity: 'critical', key: 'k', time: 1n, principal: 'kube-admin', source: '', destination: 'AuthorizationPolicy',
  resource: 'shop/deny-admin', reason: 'deleted', count: 1, evidence: { eventIds: [], traceIds: [] }, details: {},
}).alert;
const ID = alert.id;
let changes = 0;
const service: TriageService = {
  find: async (id) => (id === ID ? alert : undefined),
  setStatus: async (_id, status, by, note) => {
    changes++;
    return { before: alert, after: withStatus(alert, status, by, note, 2n) };
  },
};
let server: QueryServer;
let port = 0;
const events: SecurityEvent[] = [];
const unwatch = watchSecurityEvents((e) => events.push(e));

beforeAll(async () => {
  // The engine is never loaded: nothing here may reach the query path.
  const pool = new ReadonlyPool(dir, () => Promise.reject(new Error('no engine in this test')));
  server = new QueryServer({
    endpoint: '127.0.0.1:0',
    pool,
    defaultDatabase: 'otel',
    logger: silentLogger,
    queryLog: false,
    users: {
      rita: { password_bcrypt_hash: null, password_sha256_hex: sha(PW.rita), role: 'responder' },
      sam: { password_bcrypt_hash: null, password_sha256_hex: sha(PW.sam), role: 'reader' },
      ada: { password_bcrypt_hash: null, password_sha256_hex: sha(PW.ada), role: 'auditor' },
    },
    throttle: { max_failures: 3, window: 60_000, block_duration: 30_000, max_sources: 100 },
  });
  server.routes.add('/alerts/', triageRoute(service, silentLogger, 5000, 300));
  await server.start();
  port = server.port;
});
afterAll(async () => {
  unwatch();
  await server.close();
  rmSync(dir, { recursive: true, force: true });
});

const key = (u: keyof typeof PW) => ({ 'X-ClickHouse-User': u, 'X-ClickHouse-Key': PW[u] });
const basic = (u: string, p: string) => `Basic ${Buffer.from(`${u}:${p}`).toString('base64')}`;
const JSON_CT = { 'Content-Type': 'application/json' };

interface Answer {
  status: number;
  body: string;
}

/** A raw request: the path exactly as written (no client normalisation). */
function request(path: string, o: { method?: string; headers?: http.OutgoingHttpHeaders; body?: string | Buffer; localAddress?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path, method: o.method ?? 'POST', headers: o.headers, localAddress: o.localAddress, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

const ack = (body: string, headers: http.OutgoingHttpHeaders = {}, path = `/alerts/${ID}/ack`) => request(path, { headers: { ...key('rita'), ...JSON_CT, ...headers }, body });

describe('triage routes under attack', () => {
  it('refuses missing, URL-borne and doubled credentials and other roles; nothing reaches the store', async () => {
    const before = changes;
    const body = '{"note":"x"}';
    // From an address of its own: these count as failed logins (the throttle would block the next tests).
    const localAddress = '127.0.62.1';
    expect((await request(`/alerts/${ID}/ack`, { headers: JSON_CT, body, localAddress })).status).toBe(401);
    expect((await request(`/alerts/${ID}/ack?user=rita&password=${PW.rita}`, { headers: JSON_CT, body, localAddress: '127.0.62.2' })).status).toBe(400);
    expect((await request(`/alerts/${ID}/ack?user=rita`, { headers: { ...key('rita'), ...JSON_CT }, body, localAddress })).status).toBe(400);
    expect((await request(`/alerts/${ID}/ack`, { headers: { ...key('rita'), Authorization: basic('rita', PW.rita), ...JSON_CT }, body, localAddress: '127.0.62.2' })).status).toBe(400);
    for (const u of ['sam', 'ada'] as const) {
      const r = await request(`/alerts/${ID}/ack`, { headers: { ...key(u), ...JSON_CT }, body });
      expect([u, r.status]).toEqual([u, 403]);
      expect(r.body).toMatch(/may not triage alerts/);
    }
    expect(changes).toBe(before);
    // Basic auth alone works.
    expect((await request(`/alerts/${ID}/ack`, { headers: { Authorization: basic('rita', PW.rita), ...JSON_CT }, body })).status).toBe(200);
  });

  it('path tricks never reach a status change under another path, and ids are exactly 16 hex digits', async () => {
    const before = changes;
    const cases: Array<[string, number]> = [
      [`/alerts/%2e%2e/${ID}/ack`, 404], // the URL parser resolves it to /<id>/ack: no such handler
      [`/alerts/./%2e/x/../${ID}/ack`, 200], // resolves to /alerts/<id>/ack itself, still authenticated as rita
      [`/alerts/${ID}%2fack`, 400],
      [`/alerts/${ID}/%61ck`, 404],
      [`/alerts/${ID}/ack%00`, 404],
      [`/alerts/${ID}/ack/`, 400],
      [`/alerts/%30${ID.slice(1)}/ack`, 400],
      [`/alerts/${ID.toUpperCase()}/ack`, 400],
      [`/alerts/${'a'.repeat(8000)}/ack`, 400],
      [`/ALERTS/${ID}/ack`, 404],
      [`//alerts/${ID}/ack`, 404],
    ];
    for (const [path, status] of cases) expect([path.slice(0, 60), (await ack('{"note":"n"}', {}, path)).status]).toEqual([path.slice(0, 60), status]);
    // Past the HTTP server's header limit: refused before anything runs.
    expect((await ack('{"note":"n"}', {}, `/alerts/${'a'.repeat(20_000)}/ack`)).status).toBe(431);
    expect(changes).toBe(before + 1);
  });

  it('refuses oversized, compressed, mistyped and hostile bodies', async () => {
    const before = changes;
    const cases: Array<[string, http.OutgoingHttpHeaders, number, RegExp]> = [
      ['{"note":"x"}', { 'Content-Type': 'text/plain' }, 415, /application\/json/],
      ['{"note":"x"}', { 'Content-Type': 'application/json-patch+json' }, 415, /application\/json/],
      ['{"note":"x"}', { 'Content-Type': 'application/x-www-form-urlencoded' }, 415, /application\/json/],
      ['{"note":"x"}', { 'Content-Encoding': 'gzip' }, 415, /compressed/],
      ['{"__proto__":{"note":"x"},"note":"y"}', {}, 400, /unknown key \\"__proto__\\"/],
      ['{"constructor":"x","note":"y"}', {}, 400, /unknown key \\"constructor\\"/],
      ['{"note":"first","note":"second"}', {}, 400, /more than once/],
      ['{"note":"a", "no\\u0074e" : "b"}', {}, 400, /more than once/],
      ['{"note":{"note":"x"}}', {}, 400, /note is required/],
      [JSON.stringify({ note: 'ok \u202egnp.exe' }), {}, 400, /control characters/],
      [JSON.stringify({ note: 'line\u2028break' }), {}, 400, /control characters/],
      [JSON.stringify({ note: 'c1\u0085' }), {}, 400, /control characters/],
      ['{"note":"x"}', { 'Content-Length': '1000000000' }, 413, /larger than/],
    ];
    for (const [body, headers, status, reason] of cases) {
      const r = await ack(body, headers);
      expect([body.slice(0, 50), r.status]).toEqual([body.slice(0, 50), status]);
      expect(r.body).toMatch(reason);
    }
    // Chunked, no length declared: cut at the limit.
    const big = await request(`/alerts/${ID}/ack`, { headers: { ...key('rita'), ...JSON_CT, 'Transfer-Encoding': 'chunked' }, body: Buffer.alloc(40_000, 0x20) });
    expect(big.status).toBe(413);
    expect(changes).toBe(before);
    // JSON the note may hold as text: quotes, braces, a '"note"' inside the string.
    expect((await ack(JSON.stringify({ note: 'said "note": twice {[' }))).status).toBe(200);
  });

  it('a body sent slowly is refused at the deadline (408) and nothing is stored', async () => {
    const before = changes;
    const answer = await new Promise<string>((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => {
        s.write(`POST /alerts/${ID}/ack HTTP/1.1\r\nHost: x\r\nX-ClickHouse-User: rita\r\nX-ClickHouse-Key: ${PW.rita}\r\nContent-Type: application/json\r\nContent-Length: 20\r\n\r\n{"no`);
      });
      let got = '';
      s.on('data', (c: Buffer) => {
        got += c.toString();
        if (got.includes('\r\n\r\n')) {
          s.destroy();
          resolve(got);
        }
      });
      s.on('error', reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 408/);
    expect(changes).toBe(before);
  });

  it('every refusal on the route is an audit event, with the status and the reason', async () => {
    events.length = 0;
    await ack('{"note":"a","note":"b"}');
    await ack('{"note":"x"}', { 'Content-Type': 'text/plain' });
    await ack('{"note":"x"}', {}, `/alerts/${ID}/delete`);
    await ack('{"note":"x"}', {}, `/alerts/1'or'1/ack`);
    await request(`/alerts/0123456789abcdef`, { method: 'GET', headers: key('sam') });
    await request(`/alerts/${ID}/resolve`, { headers: { ...key('sam'), ...JSON_CT }, body: '{"note":"x"}' });
    const refused = events.filter((e) => e.outcome !== 'allowed' && e.outcome !== 'success').map((e) => [e.action, e.outcome, e.subject, e.details.status]);
    expect(refused).toEqual([
      ['alert.acknowledge', 'failed', 'rita', '400'],
      ['alert.acknowledge', 'failed', 'rita', '415'],
      ['alert.triage', 'failed', 'rita', '404'],
      ['alert.triage', 'failed', 'rita', '400'],
      ['alert.read', 'failed', 'sam', '404'],
      ['alert.resolve', 'denied', 'sam', '403'],
    ]);
    expect(events.find((e) => e.details.status === '415')!.reason).toMatch(/application\/json/);
  });

  it('the login throttle applies on the route: a guessing source is blocked even with the right password', async () => {
    const from = '127.0.61.1';
    const statuses: number[] = [];
    for (let i = 0; i < 4; i++) {
      statuses.push((await request(`/alerts/${ID}/ack`, { headers: { 'X-ClickHouse-User': 'rita', 'X-ClickHouse-Key': `guess${i}`, ...JSON_CT }, body: '{"note":"x"}', localAddress: from })).status);
    }
    expect(statuses).toEqual([401, 401, 401, 429]);
    const before = changes;
    expect((await request(`/alerts/${ID}/ack`, { headers: { ...key('rita'), ...JSON_CT }, body: '{"note":"x"}', localAddress: from })).status).toBe(429);
    expect(changes).toBe(before);
  });
});

describe('the throttle cannot be reset with another account', () => {
  it('a reader who logs in between guesses at the responder\'s password is still blocked', async () => {
    const from = '127.0.63.1';
    const guess = (i: number) => request(`/alerts/${ID}/ack`, { headers: { 'X-ClickHouse-User': 'rita', 'X-ClickHouse-Key': `guess${i}`, ...JSON_CT }, body: '{"note":"x"}', localAddress: from });
    const asSam = () => request(`/alerts/${ID}`, { method: 'GET', headers: key('sam'), localAddress: from });
    const statuses: number[] = [];
    for (let round = 0; round < 3; round++) {
      statuses.push((await guess(2 * round)).status, (await guess(2 * round + 1)).status);
      statuses.push((await asSam()).status);
    }
    // The third failure starts the block: what follows from that source is 429, sam's valid logins included.
    expect(statuses).toEqual([401, 401, 200, 401, 429, 429, 429, 429, 429]);
  });
});

describe('a change answered 202 that the store then refuses', () => {
  it('is recorded in the audit trail as failed, note and all', async () => {
    const failing: TriageService = {
      find: async () => alert,
      setStatus: () => new Promise((_, reject) => setTimeout(() => reject(new Error('store gone')), 100)),
    };
    const route = triageRoute(failing, silentLogger, 10);
    const plain = http.createServer((req, res) => void route(req, res, new URL(req.url!, 'http://x'), { user: 'rita', role: 'responder', authenticated: true, remote: '127.0.0.1' }));
    await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
    const seen: SecurityEvent[] = [];
    const stop = watchSecurityEvents((e) => seen.push(e));
    try {
      const res = await fetch(`http://127.0.0.1:${(plain.address() as net.AddressInfo).port}/alerts/${ID}/resolve`, { method: 'POST', headers: JSON_CT, body: '{"note":"rotated"}' });
      expect(res.status).toBe(202);
      await new Promise((r) => setTimeout(r, 300));
      expect(seen.map((e) => [e.action, e.outcome, e.details.note])).toEqual([['alert.resolve', 'failed', 'rotated']]);
    } finally {
      stop();
      plain.close();
    }
  });
});
