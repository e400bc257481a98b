/**
 * Reports: pick a period, render the evidence report (lib/report, the
 * builder `trailhouse report` uses) with the user's rights (figures the role
 * may not read say so). One rendering is one set — report.html, report.json
 * and, when the pipeline has a signed audit log, report.sig signed with its
 * key exactly as `trailhouse report` signs (lib/report/sign.ts) — kept a
 * few minutes (report-sets.ts) to be viewed and downloaded, so the three
 * downloads verify together with `trailhouse verify --report DIR`. Without
 * a key the set is unsigned and labelled so.
 */
import { createHash } from 'node:crypto';
import type { SharedIntegrity } from '../../audit/shared-integrity.ts';
import type { VerifySource } from '../../audit/verify-store.ts';
import { buildReportFacts, checkPeriod, type ReportFacts } from '../../report/facts.ts';
import { renderHtml } from '../../report/html.ts';
import { signReport } from '../../report/sign.ts';
import { verifierKeyOf } from '../../tlog/keys.ts';
import { esc, notice, page } from '../html.ts';
import type { ReportSet, ReportSets, ReportSetFile } from '../report-sets.ts';
import { BadRequest, html, type Answer, type Ctx } from './context.ts';
import { consoleIntegrity } from './report-integrity.ts';

/** What the Reports pages need besides the request. */
export interface Reporting {
  sets: ReportSets;
  /** The pipeline's signed log (its key signs the reports), when one runs; asked per request. */
  integrity: () => SharedIntegrity | undefined;
  /** The pipeline's own store, for the integrity section's verify run; null: not run. */
  verifySource: VerifySource | null;
}

const DAY = /^\d{4}-\d\d-\d\d$/;

function day(v: string | null, name: string): bigint {
  if (!v || !DAY.test(v)) throw new BadRequest(`${name}: a date, e.g. 2026-12-01`);
  const ms = Date.parse(`${v}T00:00:00Z`);
  if (!Number.isFinite(ms)) throw new BadRequest(`${name}: not a date`);
  return BigInt(ms) * 1_000_000n;
}

export function reportsPage(ctx: Ctx, rep: Reporting): Answer {
  const today = new Date().toISOString().slice(0, 10);
  const monthAgo = new Date(Date.now() - 30 * 86_400_000).toISOString().slice(0, 10);
  const tomorrow = new Date(Date.now() + 86_400_000).toISOString().slice(0, 10);
  const key = rep.integrity();
  const signing = key
    ? `Reports are signed with the pipeline's audit log key <code>${esc(key.signer.name)}</code> (report.sig), as <code>trailhouse report</code> signs them.`
    : 'This pipeline has no signing key (no audit processor with <code>integrity</code>): reports rendered here are <strong>unsigned</strong>; <code>npx trailhouse report --from … --to … --out DIR --key-file KEY</code> writes a signed one.';
  const body = `<p>The SOC 2 evidence report for a period (UTC days, the end day excluded), built with your role's rights: figures your role may not read are marked "not available". ${signing}</p>
<form class="filters" method="get" action="/reports/render">
<label>From (first day)<input type="date" name="from" value="${esc(monthAgo)}" required></label>
<label>To (day after the last)<input type="date" name="to" value="${esc(tomorrow)}" required></label>
<button type="submit">Render</button></form><p class="muted">Today is ${esc(today)} (UTC).</p>`;
  return html(page('Reports', ctx.who, body, '/reports'));
}

/** Renders (and signs) one set, then sends the browser to its page. */
export async function renderReport(ctx: Ctx, rep: Reporting): Promise<Answer> {
  const fromNs = day(ctx.url.searchParams.get('from'), 'from');
  const toNs = day(ctx.url.searchParams.get('to'), 'to');
  try {
    checkPeriod({ fromNs, toNs, gapMinutes: 15 });
  } catch (err) {
    throw new BadRequest((err as Error).message);
  }
  if (toNs - fromNs > 400n * 86_400_000_000_000n) throw new BadRequest('a report covers at most 400 days');
  const iso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();
  const key = rep.integrity();
  const facts: ReportFacts = await buildReportFacts(
    { select: (sql, params) => ctx.q.select(ctx.caller, sql, params) },
    {
      fromNs,
      toNs,
      gapMinutes: 15,
      source: { endpoint: 'console', database: ctx.q.database, user: ctx.caller.user },
      signedBy: key?.signer.name ?? null,
      integrity: await consoleIntegrity(rep.verifySource, key, fromNs, toNs),
    },
  );
  const json = Buffer.from(JSON.stringify(facts, null, 2) + '\n');
  const doc = Buffer.from(renderHtml(facts));
  const files: ReportSet['files'] = { 'report.html': doc, 'report.json': json };
  if (key) files['report.sig'] = Buffer.from(signReport(facts.period, { 'report.html': doc, 'report.json': json }, key.signer));
  const set = rep.sets.add({
    user: ctx.caller.user,
    name: `trailhouse-report-${iso(fromNs).slice(0, 10)}-${iso(toNs).slice(0, 10)}`,
    period: { from: facts.period.from, to: facts.period.to },
    signedBy: key?.signer.name ?? null,
    files,
  });
  return { status: 303, type: 'html', body: '', headers: { Location: `/reports/${set.id}` } };
}

/** One set's page: what it is, and its files. */
export function reportSetPage(ctx: Ctx, rep: Reporting, id: string): Answer {
  const set = found(ctx, rep, id);
  const key = rep.integrity();
  const links = (['report.html', 'report.json', 'report.sig'] as const)
    .filter((f) => set.files[f])
    .map((f) => `<li><a href="/reports/${set.id}/${f}" download="${f}">Download ${f}</a> (${set.files[f]!.length} bytes${set.signedBy ? '' : ', unsigned'})</li>`)
    .join('');
  const sig = set.signedBy
    ? `<p class="selfcheck ok">Signed by <code>${esc(set.signedBy)}</code>. Save the three files into one directory and check them with <code>npx trailhouse verify --report DIR --pubkey ${esc(key ? verifierKeyOf(key.signer) : 'KEY')}</code> (the public key as <code>trailhouse keys</code> prints it; an auditor uses the copy obtained out of band).</p>`
    : notice('error', 'UNSIGNED: this pipeline has no signing key, so nothing attests that these files are unchanged. `trailhouse verify --report` refuses an unsigned report.');
  const body = `<p>Evidence report for ${esc(set.period.from)} to ${esc(set.period.to)}, generated ${esc(new Date(set.created).toISOString())}. Kept here ${rep.sets.keptMinutes} minutes.</p>
${sig}<ul class="downloads">${links}</ul><p><a href="/reports/${set.id}/view">View the report</a> · <a href="/reports">Render another</a></p>`;
  return html(page(`Evidence report${set.signedBy ? '' : ' (unsigned)'}`, ctx.who, body, '/reports'));
}

/** The report itself in the browser, or one of its files as a download. */
export function reportSetFile(ctx: Ctx, rep: Reporting, id: string, file: ReportSetFile | 'view'): Answer {
  const set = found(ctx, rep, id);
  if (file === 'view') {
    const doc = set.files['report.html']!.toString('utf8');
    // The report carries its own inline stylesheet (it must stand alone): allowed by its hash only.
    const styles = [...doc.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => `'sha256-${createHash('sha256').update(m[1]!).digest('base64')}'`);
    return { status: 200, type: 'html', body: doc, headers: { 'Content-Security-Policy': `default-src 'none'; style-src ${styles.join(' ') || "'none'"}; img-src data:; form-action 'none'; frame-ancestors 'none'; base-uri 'none'` } };
  }
  const bytes = set.files[file];
  if (!bytes) throw new BadRequest(`${file}: this report is unsigned and has none`);
  const type = file === 'report.json' ? 'application/json; charset=UTF-8' : file === 'report.html' ? 'text/html; charset=UTF-8' : 'text/plain; charset=UTF-8';
  // The file's own name: saved side by side, the three are what `verify --report DIR` reads.
  return { status: 200, type: 'download', body: bytes, headers: { 'Content-Type': type, 'Content-Disposition': `attachment; filename="${file}"` } };
}

function found(ctx: Ctx, rep: Reporting, id: string): ReportSet {
  const set = rep.sets.get(id, ctx.caller.user);
  if (!set) throw new NotKept(`no report ${id.slice(0, 32)} here: reports are kept ${rep.sets.keptMinutes} minutes for the user who rendered them; render it again`);
  return set;
}

/** A set that expired, or another user's: 404. */
export class NotKept extends Error {}
