/**
 * Reports: pick a period, render the evidence report (lib/report, the
 * builder `trailhouse report` uses) with the user's rights (figures the role
 * may not read say so), view it, or download report.html / report.json.
 * The console does not sign (the signing key stays with the CLI that an
 * operator runs) and does not run `verify`: the integrity section gives the
 * command to run.
 */
import { createHash } from 'node:crypto';
import { buildReportFacts, checkPeriod, type ReportFacts } from '../../report/facts.ts';
import { renderHtml } from '../../report/html.ts';
import { esc, page } from '../html.ts';
import { BadRequest, html, type Answer, type Ctx } from './context.ts';

const DAY = /^\d{4}-\d\d-\d\d$/;

function day(v: string | null, name: string): bigint {
  if (!v || !DAY.test(v)) throw new BadRequest(`${name}: a date, e.g. 2026-12-01`);
  const ms = Date.parse(`${v}T00:00:00Z`);
  if (!Number.isFinite(ms)) throw new BadRequest(`${name}: not a date`);
  return BigInt(ms) * 1_000_000n;
}

export function reportsPage(ctx: Ctx): Answer {
  const today = new Date().toISOString().slice(0, 10);
  const monthAgo = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const body = `<p>The SOC 2 evidence report for a period (UTC days, the end day excluded), built with your role's rights: figures your role may not read are marked "not available".
The report rendered here is not signed; <code>npx trailhouse report --from … --to … --out DIR</code> writes the signed one.</p>
<form class="filters" method="get" action="/reports/render">
<label>From (first day)<input type="date" name="from" value="${esc(monthAgo)}" required></label>
<label>To (day after the last)<input type="date" name="to" value="${esc(tomorrow)}" required></label>
<label>Format<select name="format"><option value="view">view in the browser</option><option value="html">download report.html</option><option value="json">download report.json</option></select></label>
<button type="submit">Render</button></form><p class="muted">Today is ${esc(today)} (UTC).</p>`;
  return html(page('Reports', ctx.who, body, '/reports'));
}

export async function renderReport(ctx: Ctx): Promise<Answer> {
  const fromNs = day(ctx.url.searchParams.get('from'), 'from');
  const toNs = day(ctx.url.searchParams.get('to'), 'to');
  const format = ctx.url.searchParams.get('format') ?? 'view';
  if (!['view', 'html', 'json'].includes(format)) throw new BadRequest('format: view, html or json');
  try {
    checkPeriod({ fromNs, toNs, gapMinutes: 15 });
  } catch (err) {
    throw new BadRequest((err as Error).message);
  }
  if (toNs - fromNs > 400n * 86_400_000_000_000n) throw new BadRequest('a report covers at most 400 days');
  const iso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();
  const facts: ReportFacts = await buildReportFacts(
    { select: (sql, params) => ctx.q.select(ctx.caller, sql, params) },
    {
      fromNs,
      toNs,
      gapMinutes: 15,
      source: { endpoint: 'console', database: ctx.q.database, user: ctx.caller.user },
      signedBy: null,
      integrity: { command: `npx trailhouse verify --from ${iso(fromNs)} --to ${iso(toNs)}`, unavailable: 'the console does not run the verification: run the command' },
    },
  );
  const name = `trailhouse-report-${iso(fromNs).slice(0, 10)}-${iso(toNs).slice(0, 10)}`;
  if (format === 'json') return { status: 200, type: 'download', body: `${JSON.stringify(facts, null, 2)}\n`, headers: { 'Content-Type': 'application/json; charset=UTF-8', 'Content-Disposition': `attachment; filename="${name}.json"` } };
  const doc = renderHtml(facts);
  if (format === 'html') return { status: 200, type: 'download', body: doc, headers: { 'Content-Type': 'text/html; charset=UTF-8', 'Content-Disposition': `attachment; filename="${name}.html"` } };
  // The report carries its own inline stylesheet (it must stand alone): allowed by its hash only.
  const styles = [...doc.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`);
  return { status: 200, type: 'html', body: doc, headers: { 'Content-Security-Policy': `default-src 'none'; style-src ${styles.join(' ') || "'none'"}; img-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'` } };
}
