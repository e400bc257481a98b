/**
 * The pipeline's self-check (integrity.self_verify) on the real embedded
 * engine: a clean store gives a success `integrity.verify` audit event;
 * after a row is changed THROUGH THE ENGINE (SQL on the same chDB, not
 * through trailhouse) the next check records a failure naming it; the
 * console's Integrity page shows each (over HTTP and in a real browser).
 */
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyCommand } from '../bin/commands/verify.ts';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConsoleExtension } from '../extensions/console/console.ts';
import { openSqlStore, type SqlStoreHandle } from '../lib/clickhouse/sql-store.ts';
import { login, PW } from './console-fixture.ts';
import { waitFor } from './helpers.ts';
import { startInTempDir, type RunningService } from './service.ts';

const sha = (p: string) => createHash('sha256').update(p).digest('hex');
const ART = 'test-artifacts/console';
let r: RunningService & { dir: string };
let handle: SqlStoreHandle;
let consoleUrl: string;

const yaml = (dir: string) => `
extensions:
  clickhouse_store:
    path: ${dir}
    query_endpoint: "127.0.0.1:0"
    query_users:
      sam: {password_sha256_hex: ${sha(PW.sam)}, role: reader}
  console: {endpoint: "127.0.0.1:0", store: clickhouse_store, alerts: null}
receivers:
  otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}
processors:
  audit: {store: clickhouse_store, integrity: {checkpoint_interval: 1s, self_verify: {interval: 1s}}}
exporters:
  clickhouse:
    store: clickhouse_store
    sending_queue: {enabled: false}
    integrity: {enabled: true, services: [istio-ingressgateway], checkpoint_interval: 1s, self_verify: {interval: 1s}}
service:
  extensions: [clickhouse_store, console]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [audit], exporters: [clickhouse]}
`;

function denial(i: number) {
  return {
    timeUnixNano: String(BigInt(Date.now() - 60_000) * 1_000_000n + BigInt(i)),
    body: { stringValue: `GET /admin/users/${i} 403` },
    attributes: [
      { key: 'http.response.status_code', value: { intValue: '403' } },
      { key: 'url.path', value: { stringValue: `/admin/users/${i}` } },
      { key: 'response_code_details', value: { stringValue: 'rbac_access_denied_matched_policy[ns[default]-policy[deny-admin]-rule[0]]' } },
      { key: 'downstream_peer_uri_san', value: { stringValue: `spiffe://cluster.local/ns/default/sa/user-${i}` } },
    ],
  };
}

interface Check { ns: string; log: string; outcome: string; summary: string; failures: string; rows_valid: string }
const CHECKS = `SELECT toString(toUnixTimestamp64Nano(Timestamp)) AS ns, Resource AS log, Outcome AS outcome, Details['summary'] AS summary, Details['failures_listed'] AS failures, Details['rows_valid'] AS rows_valid
  FROM otel.audit_events WHERE Category = 'configuration' AND Action = 'integrity.verify' ORDER BY Timestamp`;

beforeAll(async () => {
  r = await startInTempDir('th-self-verify-', yaml);
  consoleUrl = ((r.service as unknown as { extensions: Array<{ id: string; component: unknown }> }).extensions.find((e) => e.id === 'console')!.component as ConsoleExtension).url;
  handle = openSqlStore({ endpoint: null, path: r.dir, username: 'default', password: '' });
  const res = await fetch(`http://${r.otlp.http!.address}/v1/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'istio-ingressgateway' } }] }, scopeLogs: [{ logRecords: Array.from({ length: 10 }, (_, i) => denial(i)) }] }] }),
  });
  expect(res.status).toBe(200);
}, 120_000);

afterAll(async () => {
  await handle?.release();
  await r?.stop();
});

async function integrityPage(): Promise<string> {
  const { cookie } = await login(consoleUrl, 'sam', PW.sam);
  const res = await fetch(`${consoleUrl}/integrity`, { headers: { cookie } });
  expect(res.status).toBe(200);
  return res.text();
}

/** The self-checks once `done` holds (read from the engine directly: the query interface has users). */
async function waitChecks(done: (x: Check[]) => boolean, what: string): Promise<Check[]> {
  let last: Check[] = [];
  return waitFor(async () => ((last = await handle.store.query<Check>(CHECKS)), done(last) ? last : undefined), 60_000, what).catch((err: Error) => {
    throw new Error(`${err.message}; last: ${JSON.stringify(last)}`);
  });
}

describe('the pipeline verifies its own trail', () => {
  it('a clean store: a success event, shown on the Integrity page', async () => {
    // The audit trail's log and the clickhouse exporter's log over otel_logs, each checked.
    const clean = (log: string) => (c: Check) => c.log === log && c.outcome === 'success' && Number(c.rows_valid) >= 10;
    const checks = await waitChecks((x) => x.some(clean('otel.audit_events')) && x.some(clean('otel.otel_logs')), 'a successful self-check of each log');
    const ok = checks.find(clean('otel.audit_events'))!;
    expect(ok.summary).toMatch(/^\d+\/\d+ checkpoints valid, \d+\/\d+ rows valid/);
    expect(checks.some((c) => c.outcome === 'failure')).toBe(false);
    const page = await integrityPage();
    expect(page).toContain('Last self-check');
    expect(page).toMatch(/<strong>Verified<\/strong>/);
    expect(page).toContain('href="/audit?range=30d&amp;category=configuration&amp;destination=self_verify"');
  }, 90_000);

  it('a row changed through the engine: a failure event naming it, shown on the page', async () => {
    const since = (await handle.store.query<Check>(CHECKS)).at(-1)!.ns;
    const isAudit = (c: Check) => c.log === 'otel.audit_events';
    // The denial of user-3 now names someone else: nothing in trailhouse was asked to do it.
    await handle.store.exec(`ALTER TABLE otel.audit_events UPDATE Principal = 'spiffe://cluster.local/ns/default/sa/innocent' WHERE Principal = 'spiffe://cluster.local/ns/default/sa/user-3' SETTINGS mutations_sync = 2`);
    const checks = await waitChecks((x) => x.some((c) => isAudit(c) && BigInt(c.ns) > BigInt(since) && c.outcome === 'failure'), 'a failed self-check');
    const bad = checks.find((c) => isAudit(c) && BigInt(c.ns) > BigInt(since) && c.outcome === 'failure')!;
    // The otel_logs log was not touched: its checks stay clean.
    expect(checks.filter((c) => c.log === 'otel.otel_logs').every((c) => c.outcome === 'success')).toBe(true);
    expect(bad.summary).toMatch(/FAILED, \d+ problem/);
    expect(bad.failures).toMatch(/^modified /m);
    const page = await integrityPage();
    expect(page).toMatch(/<strong>FAILED<\/strong> <code>otel\.audit_events<\/code>/);
    expect(page).toMatch(/<strong>Verified<\/strong> <code>otel\.otel_logs<\/code>/);
    expect(page).toContain('modified ');
    mkdirSync(ART, { recursive: true });
    const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'] });
    try {
      const p = await browser.newPage();
      await p.goto(`${consoleUrl}/login?next=/integrity`);
      await p.fill('input[name=user]', 'sam');
      await p.fill('input[name=password]', PW.sam);
      await p.click('button[type=submit]');
      await p.waitForURL(/\/integrity$/);
      expect(await p.textContent('p.selfcheck.failed')).toContain('FAILED');
      await p.screenshot({ path: `${ART}/integrity-selfcheck.png`, fullPage: true });
    } finally {
      await browser.close();
    }
  }, 120_000);

  it("a report rendered in the console is signed with the log's key: its three downloads verify, and fail after one byte changes", async () => {
    const { cookie } = await login(consoleUrl, 'sam', PW.sam);
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10);
    const render = await fetch(`${consoleUrl}/reports/render?from=${day(Date.now() - 86_400_000)}&to=${day(Date.now() + 86_400_000)}`, { headers: { cookie }, redirect: 'manual' });
    expect(render.status).toBe(303);
    const at = render.headers.get('location')!;
    const setPage = await (await fetch(`${consoleUrl}${at}`, { headers: { cookie } })).text();
    expect(setPage).toContain('Signed by');
    const out = mkdtempSync(join(tmpdir(), 'th-console-report-'));
    try {
      for (const f of ['report.html', 'report.json', 'report.sig']) {
        const res = await fetch(`${consoleUrl}${at}/${f}`, { headers: { cookie } });
        expect(res.status, f).toBe(200);
        expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${f}"`);
        writeFileSync(join(out, f), Buffer.from(await res.arrayBuffer()));
      }
      // Another user (or no session) gets none of it.
      expect((await fetch(`${consoleUrl}${at}/report.sig`, { redirect: 'manual' })).status).toBe(303);
      const facts = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as { signedBy: string; integrity: { ok?: boolean; summary?: string; failures?: string[] }; sections: { id: string; figures: { id: string; rows?: { Outcome: string }[] }[] }[] };
      expect(facts.signedBy).toBeTruthy();
      // The console ran verify over the store for the period: the row changed above is named.
      expect(facts.integrity.ok).toBe(false);
      expect(facts.integrity.failures!.some((f) => f.startsWith('modified '))).toBe(true);
      const selfChecks = facts.sections.find((x) => x.id === 'integrity')!.figures.find((f) => f.id === 'integrity.self_checks')!;
      expect(selfChecks.rows!.map((x) => x.Outcome)).toEqual(expect.arrayContaining(['success', 'failure']));
      const verifiers = join(r.dir, 'keys', 'verifiers');
      const run = async () => {
        let text = '';
        const code = await verifyCommand(['--report', out, '--pubkey', verifiers], { out: (x) => void (text += x), err: (x) => void (text += x) });
        return { code, text };
      };
      const good = await run();
      expect(good.code, good.text).toBe(0);
      expect(good.text).toContain('verified: the report is as signed');
      const html = readFileSync(join(out, 'report.html'));
      html[html.length >> 1] ^= 0x01;
      writeFileSync(join(out, 'report.html'), html);
      const bad = await run();
      expect(bad.code).toBe(1);
      expect(bad.text).toContain('report.html: MODIFIED');
    } finally {
      rmSync(out, { recursive: true, force: true });
    }
  }, 120_000);
});
