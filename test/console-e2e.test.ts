/**
 * The console against a running pipeline: real OTLP in (a denied request
 * with its trace), the real console server, real HTTP clients and a real
 * browser (Debian's chromium through playwright-core). Screenshots of each
 * page go to test-artifacts/console/ (gitignored).
 */
import { mkdirSync } from 'node:fs';
import http from 'node:http';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signal } from '../extensions/alerts/fixture.test-helper.ts';
import { DENIED_SPAN, EVIL, login, PW, sendDenied, startConsole, TRACE, type ConsoleFixture } from './console-fixture.ts';

const ART = 'test-artifacts/console';
let r: ConsoleFixture;
let browser: Browser;
let alertId: string;

beforeAll(async () => {
  mkdirSync(ART, { recursive: true });
  r = await startConsole();
  await sendDenied(r);
  await r.waitRows<{ n: string }>(`SELECT count() AS n FROM otel.audit_events WHERE TraceId = '${TRACE}' AND Outcome = 'denied'`, (x) => Number(x[0]?.n) > 0, 'the denial stored');
  await r.waitRows<{ n: string }>(`SELECT count() AS n FROM otel.otel_traces WHERE TraceId = '${TRACE}'`, (x) => Number(x[0]?.n) === 2, 'the spans stored');
  r.alerts.raise(signal({ key: 'console-test', evidence: { eventIds: ['ev-console'], traceIds: [TRACE] } }));
  await r.alerts.flushForTest();
  alertId = (await r.waitRows<{ Id: string }>("SELECT Id FROM otel.audit_alerts FINAL WHERE Key = 'console-test'", (x) => x.length === 1, 'the alert stored'))[0]!.Id;
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    // playwright gives every launch a fresh temporary profile itself (it refuses --user-data-dir with launch()).
  });
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await r?.stop();
});

function rawStatus(path: string, cookie: string): Promise<number> {
  const u = new URL(r.url);
  return new Promise((resolve, reject) => {
    http.get({ host: u.hostname, port: u.port, path, headers: { cookie } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

const get = (path: string, cookie = '', headers: Record<string, string> = {}) => fetch(`${r.url}${path}`, { redirect: 'manual', headers: { ...(cookie ? { cookie } : {}), ...headers } });

describe('console over HTTP', () => {
  it('an unauthenticated client gets the login page only', async () => {
    for (const p of ['/audit', '/trace/' + TRACE, '/alerts', '/integrity', '/reports', '/reports/render?from=2026-01-01&to=2026-01-02']) {
      const res = await get(p);
      expect(res.status, p).toBe(303);
      expect(res.headers.get('location')).toMatch(/^\/login/);
    }
    expect((await get('/api/audit')).status).toBe(401);
    const page = await get('/login');
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(page.headers.get('content-security-policy')).not.toContain('unsafe-inline');
  });

  it('a wrong password is refused, a forged or fixed cookie is never adopted', async () => {
    const bad = await login(r.url, 'sam', 'nope');
    expect(bad.status).toBe(401);
    expect(bad.cookie).toBe('');
    const forged = await get('/audit', 'th_console=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA');
    expect(forged.status).toBe(303);
    // Fixation: the id presented at login is not the one issued.
    const planted = 'th_console=BBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBBB';
    const res = await fetch(`${r.url}/login`, { method: 'POST', redirect: 'manual', headers: { cookie: planted, 'content-type': 'application/x-www-form-urlencoded' }, body: `user=sam&password=${PW.sam}` });
    const issued = res.headers.get('set-cookie') ?? '';
    expect(issued).toMatch(/^th_console=[A-Za-z0-9_-]{43}; Path=\/; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
    expect(issued.split(';')[0]).not.toBe(planted);
    expect((await get('/audit', planted)).status).toBe(303);
    expect((await get('/audit', issued.split(';')[0])).status).toBe(200);
  });

  it('an auditor is refused trace and log reads by the query interface\'s own admission', async () => {
    const ada = (await login(r.url, 'ada', PW.ada)).cookie;
    const api = await get(`/api/trace/${TRACE}`, ada);
    expect(api.status).toBe(403);
    expect(((await api.json()) as { error: string }).error).toMatch(/otel_(traces|logs)|ACCESS_DENIED|not allowed|auditor/i);
    expect((await get(`/trace/${TRACE}`, ada)).status).toBe(403);
    const audit = await get(`/api/audit?outcome=denied&trace=${TRACE}`, ada);
    expect(audit.status).toBe(200);
    expect(((await audit.json()) as { total: number }).total).toBeGreaterThan(0);
    // The refusal is recorded as the query interface records one.
    await r.waitRows<{ n: string }>("SELECT count() AS n FROM otel.audit_events WHERE Category = 'data_access' AND Destination = 'console' AND Principal = 'ada' AND Outcome = 'denied'", (x) => Number(x[0]?.n) > 0, 'the refused console query audited');
  });

  it('refuses CSRF without token, cross-origin POSTs, odd paths, huge URLs, bad ids', async () => {
    const sam = (await login(r.url, 'rita', PW.rita)).cookie;
    const post = (path: string, body: string, headers: Record<string, string> = {}) =>
      fetch(`${r.url}${path}`, { method: 'POST', redirect: 'manual', headers: { cookie: sam, 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
    expect((await post(`/alerts/${alertId}/triage`, 'action=ack&note=no+token')).status).toBe(403);
    expect((await post(`/alerts/${alertId}/triage`, 'action=ack&note=x&csrf=wrong')).status).toBe(403);
    expect((await post('/logout', 'csrf=x', { origin: 'https://evil.example' })).status).toBe(403);
    // fetch() would resolve dot segments itself: the raw paths go through node:http.
    for (const p of ['/trace/../audit', '/trace/%2e%2e/audit', '/trace%2f..%2faudit', '//evil.example/', '/trace/..\\audit']) {
      expect(await rawStatus(p, sam), p).toBe(400);
    }
    expect((await get(`/audit?principal=${'a'.repeat(9000)}`, sam)).status).toBe(414);
    expect((await get('/trace/not-a-trace', sam)).status).toBe(400);
    expect((await get(`/trace/${TRACE}?span=<script>`, sam)).status).toBe(400);
    expect((await get('/audit?range=forever', sam)).status).toBe(400);
    const open = await fetch(`${r.url}/login?next=//evil.example/x`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `user=sam&password=${PW.sam}` });
    expect(open.headers.get('location')).toBe('/audit');
    const st = await fetch(`${r.url}/alerts?status=open`, { headers: { cookie: sam } });
    expect(await st.text()).toContain(alertId);
  });

  it('escapes a principal carrying markup on every page that shows it', async () => {
    const sam = (await login(r.url, 'sam', PW.sam)).cookie;
    for (const p of [`/audit?outcome=denied&trace=${TRACE}`, `/trace/${TRACE}`]) {
      const text = await (await get(p, sam)).text();
      expect(text, p).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;/svg&gt;&quot;&#39;');
      expect(text, p).not.toContain('<script>');
      expect(text, p).not.toContain(EVIL);
    }
  });

  it('a reader may not triage; a console without the responder role shows why', async () => {
    const sam = (await login(r.url, 'sam', PW.sam)).cookie;
    const page = await (await get('/alerts', sam)).text();
    expect(page).toContain('the reader role may not triage alerts');
    const csrf = /name="csrf" value="([^"]+)"/.exec(page)![1]!;
    const res = await fetch(`${r.url}/alerts/${alertId}/triage`, { method: 'POST', redirect: 'manual', headers: { cookie: sam, 'content-type': 'application/x-www-form-urlencoded' }, body: `csrf=${csrf}&action=ack&note=mine` });
    expect(res.status).toBe(403);
  });
});

describe('console in a browser', () => {
  it('log in, search the denial, open its trace, acknowledge the alert, render a report', async () => {
    const ctx = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await ctx.newPage();
    const blocked: string[] = [];
    page.on('request', (req) => {
      if (!req.url().startsWith(r.url)) blocked.push(req.url());
    });
    await page.goto(`${r.url}/audit`);
    expect(page.url()).toContain('/login');
    await page.screenshot({ path: `${ART}/login.png` });
    // Keyboard only: the user field has focus, tab to the password, enter submits.
    await page.keyboard.type('rita');
    await page.keyboard.press('Tab');
    await page.keyboard.type(PW.rita);
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/audit/);
    await page.selectOption('select[name=outcome]', 'denied');
    await page.fill('input[name=principal]', EVIL);
    await page.click('button[type=submit]:has-text("Search")');
    await page.waitForURL(/outcome=denied/);
    const row = page.locator('tbody tr', { hasText: '/admin/users' }).first();
    await expect.poll(() => row.count()).toBeGreaterThan(0);
    expect(await page.locator('svg.chart').count()).toBe(1);
    expect(await page.textContent('body')).toContain(EVIL);
    await page.screenshot({ path: `${ART}/audit.png`, fullPage: true });
    await row.locator('a', { hasText: 'trace' }).click();
    await page.waitForURL(new RegExp(`/trace/${TRACE}`));
    expect(page.url()).toContain(`span=${DENIED_SPAN}`);
    const spanRow = page.locator(`#span-${DENIED_SPAN}`);
    expect(await spanRow.getAttribute('class')).toBe('target');
    // The audit event on its span (the row after the span's) and in the timeline.
    const onSpan = page.locator(`#span-${DENIED_SPAN} + tr .evt.audit`);
    expect(await onSpan.count()).toBeGreaterThan(0);
    expect(await onSpan.first().textContent()).toContain('denied');
    expect(await page.locator('ol.timeline li', { hasText: 'audit' }).count()).toBeGreaterThan(0);
    expect(await page.locator('ol.timeline li', { hasText: 'GET /admin/users 403' }).count()).toBe(1);
    await page.selectOption('select[name=pad]', '5');
    await page.click('button:has-text("Show")');
    await page.waitForURL(/pad=5/);
    expect(await page.textContent('body')).toContain('warming cache before the request');
    await page.screenshot({ path: `${ART}/trace.png`, fullPage: true });
    await page.goto(`${r.url}/alerts`);
    const alertRow = page.locator(`#alert-${alertId}`);
    await alertRow.locator('textarea[name=note]').fill('looking at it <b>now</b>');
    await alertRow.locator('button:has-text("Acknowledge")').click();
    await page.waitForURL(/done=/);
    expect(await page.locator(`#alert-${alertId}`).textContent()).toContain('acknowledged');
    await page.screenshot({ path: `${ART}/alerts.png`, fullPage: true });
    await r.waitRows<{ n: string }>(
      `SELECT count() AS n FROM otel.audit_events WHERE Action = 'alert.acknowledge' AND Outcome = 'success' AND Principal = 'rita' AND Destination = 'console'`,
      (x) => Number(x[0]?.n) === 1,
      'the acknowledgement audited',
    );
    await page.goto(`${r.url}/integrity`);
    expect(await page.textContent('main')).toContain('Newest checkpoint');
    await page.screenshot({ path: `${ART}/integrity.png`, fullPage: true });
    await page.goto(`${r.url}/reports`);
    await page.screenshot({ path: `${ART}/reports.png` });
    await page.click('button:has-text("Render")');
    // One rendering, its three files: signed with the pipeline's audit log key.
    await page.waitForURL(/\/reports\/[0-9a-f]{32}$/);
    expect(await page.textContent('h1')).toBe('Evidence report');
    expect(await page.textContent('main')).toContain('Signed by');
    await page.screenshot({ path: `${ART}/report-set.png` });
    for (const f of ['report.html', 'report.json', 'report.sig']) {
      const dl = page.waitForEvent('download');
      await page.click(`a:has-text("Download ${f}")`);
      expect((await dl).suggestedFilename()).toBe(f);
    }
    await page.click('a:has-text("View the report")');
    expect(await page.textContent('h1')).toMatch(/evidence/i);
    await page.screenshot({ path: `${ART}/report.png` });
    expect(blocked).toEqual([]);
    await ctx.close();
  }, 120_000);

  it('an auditor browses audit pages but not the trace page', async () => {
    const ctx = await browser.newContext();
    const page = await ctx.newPage();
    await page.goto(`${r.url}/login`);
    await page.fill('input[name=user]', 'ada');
    await page.fill('input[name=password]', PW.ada);
    await page.click('button[type=submit]');
    await page.waitForURL(/\/audit/);
    const res = await page.goto(`${r.url}/trace/${TRACE}`);
    expect(res?.status()).toBe(403);
    expect(await page.textContent('body')).toContain('may not read');
    await ctx.close();
  });
});
