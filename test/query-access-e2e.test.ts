/**
 * A pipeline loaded from YAML (as `npm start` loads pipeline.yaml) with
 * query_users: the hash written in the config lets the user in, the access
 * and the refused logins land in audit_events through the audit processor,
 * and `trailhouse audit --category data_access|authentication` shows them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import bcrypt from 'bcryptjs';
import { auditCommand, type AuditEventJson } from '../bin/commands/audit.ts';
import { startService, type RunningService } from './service.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-qaccess-'));
const PW = 'e2e-CANARY-password';
let running: RunningService | undefined;
let url = '';

beforeAll(async () => {
  running = await startService(`
receivers:
  otlp:
    protocols: {http: {endpoint: "127.0.0.1:0"}}
processors:
  audit: {path: ${dir}}
exporters:
  clickhouse:
    path: ${dir}
    query_endpoint: "127.0.0.1:0"
    sending_queue: {enabled: false}
    query_users:
      sre: {password_bcrypt_hash: "${bcrypt.hashSync(PW, 8)}", role: reader}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [audit], exporters: [clickhouse]}
`);
  url = running.queryUrl;
}, 120_000);

afterAll(async () => {
  await running?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

async function audit(category: string): Promise<AuditEventJson[]> {
  let out = '';
  let err = '';
  const code = await auditCommand(['--category', category, '--json', '--endpoint', url, '--user', 'sre', '--password', PW], { out: (s) => (out += s), err: (s) => (err += s) });
  expect({ code, err }).toEqual({ code: 0, err: '' });
  return JSON.parse(out) as AuditEventJson[];
}

describe('query access, end to end', () => {
  it('a configured user gets in; every query and refused login is an audit event, and no credential is stored', async () => {
    const headers = { 'X-ClickHouse-User': 'sre', 'X-ClickHouse-Key': PW };
    const ok = await fetch(`${url}/`, { method: 'POST', headers, body: "SELECT 'e2e-marker'" });
    expect([ok.status, await ok.text()]).toEqual([200, 'e2e-marker\n']);
    const refused = await fetch(`${url}/`, { method: 'POST', headers: { 'X-ClickHouse-User': 'sre', 'X-ClickHouse-Key': `${PW}-wrong` }, body: 'SELECT 1' });
    expect(refused.status).toBe(401);
    let access: AuditEventJson[] = [];
    let auth: AuditEventJson[] = [];
    for (let i = 0; i < 60; i++) {
      [access, auth] = [await audit('data_access'), await audit('authentication')];
      if (access.some((e) => e.details.sql === "SELECT 'e2e-marker'") && auth.length) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(access.find((e) => e.details.sql === "SELECT 'e2e-marker'")).toMatchObject({ action: 'query', outcome: 'allowed', principal: 'sre', policy: 'role:reader', source: '127.0.0.1' });
    expect(auth[0]).toMatchObject({ action: 'login', outcome: 'failure', principal: 'sre', destination: 'query_interface' });
    // Only the interface's requests: the writer's own inserts raise no access events.
    expect(access.every((e) => e.destination === 'query_interface' && !/^\s*INSERT/i.test(e.details.sql ?? ''))).toBe(true);
    const all = await fetch(`${url}/`, { method: 'POST', headers, body: 'SELECT * FROM otel.audit_events FORMAT JSONEachRow' });
    expect(await all.text()).not.toContain('CANARY');
  });
});
