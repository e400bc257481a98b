/**
 * TLS on the query interface, with certificates made here by openssl: a CA,
 * a server certificate for 127.0.0.1, a client certificate it signed, and a
 * client certificate of another CA. Real HTTPS over the real embedded store.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import os from 'node:os';
import path from 'node:path';
import { createHash } from 'node:crypto';
import { onSecurityEvent, type SecurityEvent } from '../../core/security-events.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { tlsServerDefaults } from '../../core/tls.ts';
import { acquireQueryServer, type QueryServerOptions } from '../../lib/clickhouse/query/query-server.ts';
import { openStore, type StoreLease } from '../../lib/clickhouse/store.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-qtls-'));
const f = (name: string) => path.join(dir, name);
const PW = 'tls-CANARY-pw';
let lease: StoreLease;
const events: SecurityEvent[] = [];
let unsubscribe: () => void;

function openssl(...args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
}

/** A key and a certificate signed by `ca` (or self-signed CA when ca is null). */
function cert(name: string, cn: string, ca: string | null, ext: string): void {
  const key = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-subj', `/CN=${cn}`];
  if (!ca) {
    openssl('req', '-x509', ...key, '-out', `${name}.crt`, '-days', '2');
    return;
  }
  fs.writeFileSync(f(`${name}.ext`), ext);
  openssl('req', ...key, '-out', `${name}.csr`);
  openssl('x509', '-req', '-in', `${name}.csr`, '-CA', `${ca}.crt`, '-CAkey', `${ca}.key`, '-CAcreateserial', '-out', `${name}.crt`, '-days', '2', '-extfile', `${name}.ext`);
}

beforeAll(async () => {
  cert('ca', 'trailhouse test CA', null, '');
  cert('server', 'query.test', 'ca', 'subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n');
  cert('client', 'sre', 'ca', 'extendedKeyUsage=clientAuth\n');
  cert('other-ca', 'someone else', null, '');
  cert('stranger', 'mallory', 'other-ca', 'extendedKeyUsage=clientAuth\n');
  lease = openStore({ endpoint: null, path: dir, username: '', password: '' });
  await lease.store.ready();
  unsubscribe = onSecurityEvent((e) => events.push(e));
});

afterAll(async () => {
  unsubscribe?.();
  await lease?.release();
  fs.rmSync(dir, { recursive: true, force: true });
});

function options(clientCa: boolean): QueryServerOptions {
  return {
    endpoint: '127.0.0.1:0',
    pool: lease.store.readonly!,
    defaultDatabase: 'system',
    logger: silentLogger,
    users: { sre: { password_bcrypt_hash: null, password_sha256_hex: createHash('sha256').update(PW).digest('hex'), role: 'reader' } },
    tls: { ...tlsServerDefaults(), cert_file: f('server.crt'), key_file: f('server.key'), client_ca_file: clientCa ? f('ca.crt') : null },
  };
}

function get(url: string, o: { cert?: string } = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = https.request(
      `${url}/?query=SELECT%2042`,
      {
        ca: fs.readFileSync(f('ca.crt')),
        ...(o.cert ? { cert: fs.readFileSync(f(`${o.cert}.crt`)), key: fs.readFileSync(f(`${o.cert}.key`)) } : {}),
        headers: { 'X-ClickHouse-User': 'sre', 'X-ClickHouse-Key': PW },
        agent: false,
      },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('query_tls', () => {
  it('serves HTTPS with the configured certificate; plain HTTP to it gets no answer', async () => {
    const q = await acquireQueryServer(options(false));
    try {
      expect(q.server.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(await get(q.server.url)).toEqual({ status: 200, body: '42\n' });
      const plain = await new Promise<string>((resolve) => {
        const req = http.get(q.server.url.replace('https', 'http') + '/?query=SELECT%201', { headers: { 'X-ClickHouse-User': 'sre', 'X-ClickHouse-Key': PW } }, (res) => resolve(`status ${res.statusCode}`));
        req.on('error', (e) => resolve(`error ${(e as NodeJS.ErrnoException).code ?? e.message}`));
      });
      expect(plain).not.toMatch(/status 200/);
    } finally {
      await q.release();
    }
  });

  it('with client_ca_file: a client certificate of that CA is required; none or another CA\'s is refused and audited', async () => {
    const q = await acquireQueryServer(options(true));
    try {
      expect(await get(q.server.url, { cert: 'client' })).toEqual({ status: 200, body: '42\n' });
      const before = events.length;
      await expect(get(q.server.url)).rejects.toThrow();
      await expect(get(q.server.url, { cert: 'stranger' })).rejects.toThrow();
      // The server sees the refusal as its handshake ends.
      for (let i = 0; i < 20 && events.length < before + 2; i++) await new Promise((r) => setTimeout(r, 50));
      const refused = events.slice(before).filter((e) => e.action === 'tls handshake');
      expect(refused.length).toBe(2);
      expect(refused[0]).toMatchObject({ category: 'authentication', outcome: 'failure', surface: 'query_interface', source: '127.0.0.1' });
      expect(refused[0]!.reason).toMatch(/client certificate refused/);
      // A certificate does not replace the password.
      const noPassword = await new Promise<number>((resolve, reject) => {
        https.get(`${q.server.url}/?query=SELECT%201`, { ca: fs.readFileSync(f('ca.crt')), cert: fs.readFileSync(f('client.crt')), key: fs.readFileSync(f('client.key')), agent: false }, (res) => resolve(res.statusCode ?? 0)).on('error', reject);
      });
      expect(noPassword).toBe(401);
    } finally {
      await q.release();
    }
  });

  it('a missing certificate file fails the start with its config path', async () => {
    const o = options(false);
    const err = (await acquireQueryServer({ ...o, tls: { ...o.tls!, cert_file: f('nope.crt') } }).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/^query_tls\.cert_file: cannot read .*nope\.crt/);
  });
});
