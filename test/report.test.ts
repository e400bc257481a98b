/**
 * The SOC 2 evidence report end to end on the embedded engine: known data is
 * seeded, `trailhouse report` renders it through the query interface, its
 * numbers are checked against SQL over the same data, `verify --report`
 * accepts it and refuses a changed byte or an untrusted key, the auditor
 * role gets the audit sections and "not available" for the rest, and HTML in
 * the data comes out escaped in tables and SVG alike.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { select, type Conn } from '../bin/commands/oncall-http.ts';
import { reportCommand } from '../bin/commands/report.ts';
import { verifyCommand } from '../bin/commands/verify.ts';
import { openStore, type StoreLease } from '../lib/clickhouse/store.ts';
import { figureOf, type ReportFacts } from '../lib/report/facts.ts';
import type { Figure } from '../lib/report/figure.ts';
import { verifierKeyOf, loadOrCreateSigner } from '../lib/tlog/keys.ts';
import { DAY0, DAY1, EVIL_DESTINATION, EVIL_PRINCIPAL, FROM, seedSql, TO } from './report-seed.ts';
import { startService, type RunningService } from './service.ts';
import { checkHtml } from './report-html-check.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-report-'));
const sha = (s: string) => createHash('sha256').update(s).digest('hex');
let running: RunningService | undefined;
let lease: StoreLease | undefined;
let url: string;
const keyFile = join(dir, 'keys', 'audit-checkpoint.key');
const reader = ['--user', 'sre', '--password', 'sre-pass'];
const auditor = ['--user', 'soc2', '--password', 'soc2-pass'];

function capture() {
  let out = '';
  let err = '';
  return { io: { out: (s: string) => void (out += s), err: (s: string) => void (err += s) }, out: () => out, err: () => err };
}

async function report(out: string, extra: string[]): Promise<{ code: number; err: string; facts?: ReportFacts }> {
  const c = capture();
  const code = await reportCommand(['--from', FROM, '--to', TO, '--out', out, '--endpoint', url, ...extra], c.io);
  const file = join(out, 'report.json');
  return { code, err: c.err(), facts: code === 0 && existsSync(file) ? (JSON.parse(readFileSync(file, 'utf8')) as ReportFacts) : undefined };
}

async function verifyReport(out: string, extra: string[] = []): Promise<{ code: number; text: string }> {
  const c = capture();
  const code = await verifyCommand(['--report', out, '--key-file', keyFile, ...extra], c.io);
  return { code, text: c.out() + c.err() };
}

const rows = (f: Figure | undefined) => {
  expect(f?.unavailable, f?.id).toBeUndefined();
  return f!.rows!;
};
const sum = (rs: Record<string, unknown>[], k: string) => rs.reduce((a, r) => a + Number(r[k]), 0);

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
      sre: {password_sha256_hex: "${sha('sre-pass')}", role: reader}
      soc2: {password_sha256_hex: "${sha('soc2-pass')}", role: auditor}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [audit], exporters: [clickhouse]}
    traces: {receivers: [otlp], exporters: [clickhouse]}
`);
  url = running.queryUrl;
  lease = openStore({ endpoint: null, path: dir, username: '', password: '' });
  await lease.store.ready();
  for (const sql of seedSql()) await lease.store.command(sql);
  const { statsInsertSql, statsTableSql } = await import('../lib/pipeline-stats/stats.ts');
  await lease.store.command(statsTableSql('otel', 0));
  const minute = Math.floor(Date.parse(FROM) / 1000) + 3600;
  await lease.store.command(statsInsertSql('otel', [{ minute, component: 'receiver/otlp', signal: 'logs', accepted: 500, refused: 7, dropped: 0 }]));
}, 120_000);

afterAll(async () => {
  await lease?.release();
  await running?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('trailhouse report', () => {
  const out = join(dir, 'out-reader');
  const conn = (): Conn => ({ endpoint: url, database: 'otel', user: 'sre', password: 'sre-pass' });
  const q = async (sql: string) => select(conn(), sql, { from: String(BigInt(Date.parse(FROM)) * 1_000_000n), to: String(BigInt(Date.parse(TO)) * 1_000_000n) });
  const inPeriod = 'Timestamp >= fromUnixTimestamp64Nano({from:Int64}) AND Timestamp < fromUnixTimestamp64Nano({to:Int64})';
  let facts: ReportFacts;

  it('writes report.html, report.json and report.sig whose numbers match SQL over the same data', async () => {
    const r = await report(out, [...reader, '--key-file', keyFile]);
    expect(r.err).not.toMatch(/error|cannot/i);
    expect(r.code).toBe(0);
    facts = r.facts!;
    expect(facts.period).toMatchObject({ from: `${FROM.slice(0, 19)}.000000000Z`, to: `${TO.slice(0, 19)}.000000000Z` });
    expect(existsSync(join(out, 'report.sig'))).toBe(true);

    const services = rows(figureOf(facts, 'services.otel_logs'));
    expect(services.map((s) => [s.Service, s.Records])).toEqual([['checkout', '25'], ['payments', '3']]);
    const [sqlLogs] = await q(`SELECT toString(count()) AS n FROM otel_logs WHERE ${inPeriod}`);
    expect(String(sum(services, 'Records'))).toBe(sqlLogs!.n);
    expect(rows(figureOf(facts, 'gaps.otel_logs'))).toEqual([
      { Service: 'checkout', LastBefore: `${DAY0} 10:09:00`, NextSeen: `${DAY0} 10:40:00`, SilentMinutes: '30' },
      { Service: 'checkout', LastBefore: `${DAY0} 10:49:00`, NextSeen: `${DAY1} 12:00:00`, SilentMinutes: '1510' },
    ]);
    expect(rows(figureOf(facts, 'volume.otel_traces')).map((v) => [v.Day, v.Records])).toEqual([[DAY0, '4'], [DAY1, '2']]);

    const daily = rows(figureOf(facts, 'audit.daily'));
    const denied = daily.filter((d) => d.Outcome === 'denied');
    const [sqlDenied] = await q(`SELECT toString(count()) AS n FROM audit_events WHERE ${inPeriod} AND Outcome = 'denied'`);
    expect(String(sum(denied, 'Events'))).toBe(sqlDenied!.n);
    expect(sqlDenied!.n).toBe('7'); // 6 authorization denials and 1 refused query
    expect(rows(figureOf(facts, 'audit.denied.principals'))[0]).toEqual({ Principal: EVIL_PRINCIPAL, Denied: '4', Destinations: '1' });
    expect(rows(figureOf(facts, 'audit.denied.destinations'))[0]).toMatchObject({ Destination: EVIL_DESTINATION, Denied: '4' });

    const changes = rows(figureOf(facts, 'changes'));
    expect(changes.map((c) => [c.Principal, c.Action, c.Resource])).toEqual([
      ['', 'pipeline.start', ''],
      ['admin@example.com', 'update', 'security.istio.io/foo/deny-all'],
      ['ops@example.com', 'delete', 'security.istio.io/bar/allow-all'],
    ]);
    expect(changes[1]!.Details).toEqual({ change: '{"spec":{"action":"DENY"}}' });
    expect(rows(figureOf(facts, 'pipeline.restarts'))).toEqual([{ Time: `${DAY0} 06:00:00.000000000`, Action: 'pipeline.start', Version: '0.1.0', ConfigSha256: 'ab'.repeat(32), Host: 'host-1' }]);
    expect(rows(figureOf(facts, 'review.queries'))).toEqual([
      { Subject: 'sre', Surface: 'query_interface', Role: 'role:reader', Queries: '5', Refused: '1', First: `${DAY0} 15:00:00.000000000`, Last: `${DAY0} 15:09:00.000000000` },
    ]);
    expect(rows(figureOf(facts, 'review.failed_logins')).map((l) => [l.Source, l.Surface, l.Outcome, l.Attempts])).toEqual([
      ['10.0.0.9', 'query_interface', 'failure', '3'],
      ['10.0.0.9', 'query_interface', 'rate_limited', '1'],
    ]);
    expect(figureOf(facts, 'alerts')?.unavailable).toMatch(/no detection configured/);
    expect(rows(figureOf(facts, 'receivers')).map((r) => r.Component)).toEqual(['receiver/otlp']);
    // Seeded rows bypassed the audit log: verify finds them, and the report says so.
    expect(facts.integrity).toMatchObject({ ok: false, summary: expect.stringMatching(/^0\/0 checkpoints valid, 0\/\d+ rows valid/) });
    expect(facts.integrity.failures!.length).toBeGreaterThan(0);
    expect(figureOf(facts, 'x')).toBeUndefined();
    expect(facts.integrity.command).toMatch(/^trailhouse verify --endpoint /);
    expect(facts.integrity.command).not.toContain('sre-pass');
  }, 120_000);

  it('every figure re-runs: its SQL and parameters give the rows the report holds', async () => {
    for (const s of facts.sections) {
      for (const f of s.figures) {
        if (f.unavailable !== undefined || f.params.from === undefined) continue;
        expect(await select(conn(), f.sql, f.params), f.id).toEqual(f.rows);
      }
    }
  });

  it('the HTML is self-contained, parses, and escapes HTML in the data in tables and SVG labels', () => {
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    checkHtml(html);
    expect(html).not.toContain('<script');
    expect(html).not.toContain('alert(1)</script>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;/svg&gt;');
    const svgs = html.match(/<svg[\s\S]*?<\/svg>/g) ?? [];
    expect(svgs.length).toBeGreaterThan(0);
    // A principal holding "</svg>" must not end its chart: every <svg> ends where the chart does.
    const principals = svgs.find((s) => s.includes('aria-label="Top 20 denied principals"'));
    expect(principals).toContain(`<title>${EVIL_PRINCIPAL.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')}: 4</title>`);
    expect(principals!.match(/<\/svg>/g)).toHaveLength(1);
    expect(svgs.find((s) => s.includes('aria-label="Top 20 denied destinations"'))).toContain('db&lt;/svg&gt;&lt;script&gt;alert(2)&lt;/script&gt;:5432');
    // The denied-vs-allowed chart's tooltips name each day and its counts.
    expect(html).toContain(`<title>${DAY0} denied: 6</title>`);
    for (const section of ['A1.1', 'CC6.1', 'CC6.6', 'CC8.1', 'CC7.1', 'CC7.2', 'CC7.3', 'C1.2']) expect(html).toContain(`<span class="tsc">${section}</span>`);
  });

  it('verify --report passes on the fresh report and fails after one changed byte or with an untrusted key', async () => {
    const ok = await verifyReport(out);
    expect(ok.text).toContain('verified: the report is as signed');
    expect(ok.code).toBe(0);
    for (const name of ['report.html', 'report.json']) {
      const file = join(out, name);
      const orig = readFileSync(file);
      const changed = Buffer.from(orig);
      changed[Math.floor(changed.length / 2)] ^= 0x01;
      writeFileSync(file, changed);
      const bad = await verifyReport(out);
      expect(bad.text).toContain(`FAILED ${name}: MODIFIED`);
      expect(bad.code).toBe(1);
      writeFileSync(file, orig);
    }
    const other = verifierKeyOf(loadOrCreateSigner(join(dir, 'other', 'k.key'), 'someone-else'));
    const untrusted = await verifyReport(out, ['--pubkey', other]);
    expect(untrusted.text).toMatch(/FAILED signature: note has no verifiable signatures/);
    expect(untrusted.code).toBe(1);
    expect((await verifyReport(out)).code).toBe(0);
  });

  it('the auditor role gets the audit sections, and "not available" for logs and spans', async () => {
    const r = await report(join(dir, 'out-auditor'), [...auditor, '--key-file', keyFile]);
    expect(r.code).toBe(0);
    const f = r.facts!;
    expect(figureOf(f, 'services.otel_logs')?.unavailable).toMatch(/not available to this user: .*auditor role reads the audit tables only/);
    expect(figureOf(f, 'volume.otel_traces')?.unavailable).toMatch(/not available to this user/);
    expect(figureOf(f, 'retention.oldest.otel_logs')?.unavailable).toMatch(/not available to this user/);
    // The pipeline's own counters are audit evidence (refusals, drops): the auditor reads them.
    expect(figureOf(f, 'pipeline.counters')?.unavailable).toBeUndefined();
    expect(sum(rows(figureOf(f, 'pipeline.counters')), 'Refused')).toBe(7);
    expect(sum(rows(figureOf(f, 'audit.daily')), 'Events')).toBe(sum(figureOf(facts, 'audit.daily')!.rows!, 'Events'));
    expect(rows(figureOf(f, 'changes'))).toHaveLength(3);
    expect(rows(figureOf(f, 'review.failed_logins'))).toHaveLength(2);
    const html = readFileSync(join(dir, 'out-auditor', 'report.html'), 'utf8');
    checkHtml(html);
    expect(html).toContain('not available to this user');
  }, 60_000);

  it('alerts: the latest version of each alert open in the period, readable by the auditor', async () => {
    const { alertsTableSql } = await import('../lib/alerts/table.ts');
    await lease!.store.command(alertsTableSql('otel.audit_alerts'));
    const t = (ms: number) => `fromUnixTimestamp64Milli(${ms})`;
    const from = Date.parse(FROM);
    const alert = (id: string, first: number, status: string, by: string, note: string, version: number) =>
      `('${id}', 'k', ${t(first)}, ${t(first + 60_000)}, 'deny_surge', 'warning', ${JSON.stringify(EVIL_PRINCIPAL).replace(/"/g, "'")}, '', 'db', '/admin', 'surge', 3, [], [], '${status}', '${by}', ${t(first + 120_000)}, '${note}', map(), ${version})`;
    await lease!.store.command(
      `INSERT INTO otel.audit_alerts (Id, Key, FirstSeen, LastSeen, Detector, Severity, Principal, Source, Destination, Resource, Reason, Count, EventIds, TraceIds, Status, StatusBy, StatusAt, Note, Details, Version) VALUES ${[
        alert('a1', from + 3_600_000, 'open', '', '', 1),
        alert('a1', from + 3_600_000, 'acknowledged', 'rita', 'checked <b>ok</b>', 2),
        alert('a0', from - 86_400_000, 'resolved', 'sam', '', 1),
      ].join(', ')}`,
    );
    for (const who of [reader, auditor]) {
      const r = await report(join(dir, `out-alerts-${who[1]}`), [...who, '--key-file', keyFile]);
      expect(r.code).toBe(0);
      expect(rows(figureOf(r.facts!, 'alerts')).map((a) => [a.Id, a.Status, a.StatusBy, a.Note, a.Principal])).toEqual([['a1', 'acknowledged', 'rita', 'checked <b>ok</b>', EVIL_PRINCIPAL]]);
      expect(rows(figureOf(r.facts!, 'alerts.summary'))).toEqual([{ Severity: 'warning', Status: 'acknowledged', Alerts: '1' }]);
      const html = readFileSync(join(dir, `out-alerts-${who[1]}`, 'report.html'), 'utf8');
      checkHtml(html);
      expect(html).toContain('checked &lt;b&gt;ok&lt;/b&gt;');
    }
  }, 60_000);

  it('a period with no data renders every section empty, not an error', async () => {
    const c = capture();
    const empty = join(dir, 'out-empty');
    const code = await reportCommand(['--from', '2001-01-01T00:00:00Z', '--to', '2001-01-02T00:00:00Z', '--out', empty, '--endpoint', url, ...reader, '--key-file', keyFile], c.io);
    expect(c.err()).toBe('');
    expect(code).toBe(0);
    const f = JSON.parse(readFileSync(join(empty, 'report.json'), 'utf8')) as ReportFacts;
    expect(rows(figureOf(f, 'audit.daily'))).toEqual([]);
    expect(rows(figureOf(f, 'services.otel_logs'))).toEqual([]);
    checkHtml(readFileSync(join(empty, 'report.html'), 'utf8'));
    expect((await verifyReport(empty)).code).toBe(0);
  });
});

describe('trailhouse report refuses', () => {
  it('bad periods, unparsable times and a bad gap, with the reason (exit 2)', async () => {
    for (const [args, why] of [
      [['--from', TO, '--to', FROM], /is not before --to/],
      [['--from', FROM, '--to', FROM], /is not before --to/],
      [['--from', 'yesterday-ish', '--to', TO], /--from: expected a time/],
      [['--from', FROM, '--to', TO, '--gap', '90s'], /--gap: expected whole minutes/],
      [['--to', TO], /--from is required/],
    ] as const) {
      const c = capture();
      expect(await reportCommand([...args, '--out', join(dir, 'never'), '--endpoint', url, '--unsigned'], c.io)).toBe(2);
      expect(c.err()).toMatch(why);
    }
    expect(existsSync(join(dir, 'never'))).toBe(false);
  });

  it('to sign without a key (fail closed); --unsigned writes no report.sig and says so', async () => {
    const c = capture();
    const out = join(dir, 'out-unsigned');
    expect(await reportCommand(['--from', FROM, '--to', TO, '--out', out, '--endpoint', url, ...reader, '--key-file', join(dir, 'no-such.key')], c.io)).toBe(2);
    expect(c.err()).toMatch(/no signing key at .*no-such\.key.*--unsigned/);
    expect(existsSync(out)).toBe(false);
    const u = capture();
    expect(await reportCommand(['--from', FROM, '--to', TO, '--out', out, '--endpoint', url, ...reader, '--unsigned'], u.io)).toBe(0);
    expect(u.err()).toMatch(/--unsigned: no report\.sig/);
    expect(existsSync(join(out, 'report.sig'))).toBe(false);
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<b>UNSIGNED</b>');
    const v = await verifyReport(out);
    expect(v.text).toMatch(/FAILED: no signature/);
    expect(v.code).toBe(1);
  });
});
