/**
 * Integrity and retention: the newest signed checkpoint per log origin
 * (audit_events_checkpoints), the pipeline's last self-check (the newest
 * `integrity.verify` audit event, lib/audit/self-verify.ts), and the
 * report's retention section as it is
 * (lib/report retentionSection: the rules in force, the oldest rows, the
 * deletions the rules performed) for the last 30 days.
 */
import { retentionSection } from '../../report/sections.ts';
import type { Figure } from '../../report/figure.ts';
import { esc, page } from '../html.ts';
import { ConsoleQueryError, type Row } from '../query.ts';
import { html, type Answer, type Ctx } from './context.ts';

export function rowsTable(rows: readonly Row[]): string {
  if (!rows.length) return '<p class="muted">none</p>';
  const cols = Object.keys(rows[0]!);
  const cell = (v: unknown) => esc(v !== null && typeof v === 'object' ? JSON.stringify(v) : v);
  return `<table><thead><tr>${cols.map((c) => `<th scope="col">${esc(c)}</th>`).join('')}</tr></thead><tbody>${rows.map((r) => `<tr>${cols.map((c) => `<td>${cell(r[c])}</td>`).join('')}</tr>`).join('\n')}</tbody></table>`;
}

function figure(f: Figure): string {
  return `<h3>${esc(f.title)}</h3>${f.unavailable ? `<p class="muted">${esc(f.unavailable)}</p>` : rowsTable(f.rows ?? [])}${f.note ? `<p class="muted">${esc(f.note)}</p>` : ''}`;
}

/** The audit search of the self-checks (their history). */
export const SELF_CHECKS_LINK = '/audit?range=30d&category=configuration&destination=self_verify';

/** The newest integrity.verify event of each log's table (the audit trail, an otel_logs log), a few lines each. */
async function lastSelfCheck(ctx: Ctx): Promise<string> {
  let rows: Row[];
  try {
    rows = await ctx.q.select(
      ctx.caller,
      `SELECT Resource AS log, toString(Timestamp) AS time, Outcome AS outcome, Details['summary'] AS summary, Details['failures_listed'] AS failures, Details['duration_ms'] AS duration_ms, Details['newest_checkpoints'] AS newest
FROM audit_events WHERE Category = 'configuration' AND Action = {a:String} ORDER BY Timestamp DESC LIMIT 1 BY Resource LIMIT 20`,
      { a: 'integrity.verify' },
    );
  } catch (err) {
    if (!(err instanceof ConsoleQueryError && (err.missing || err.refused))) throw err;
    return `<p class="muted">${esc(err.missing ? 'No audit table in this store.' : err.message)}</p>`;
  }
  if (!rows.length) return '<p class="muted">No self-check recorded yet (the audit processor\'s <code>integrity.self_verify.interval</code>, default 1h; 0 turns it off).</p>';
  const one = (r: Row) => {
    const ok = r.outcome === 'success';
    const failures = String(r.failures ?? '');
    return `<p class="selfcheck ${ok ? 'ok' : 'failed'}"><strong>${ok ? 'Verified' : 'FAILED'}</strong> <code>${esc(r.log)}</code> at ${esc(r.time)} UTC (${esc(r.duration_ms)} ms): ${esc(r.summary)}</p>
${failures ? `<pre class="failures">${esc(failures)}</pre>` : ''}<p class="muted">Newest checkpoint size per origin: ${esc(r.newest)}.</p>`;
  };
  return `${[...rows].sort((a, b) => String(a.log).localeCompare(String(b.log))).map(one).join('\n')}<p><a href="${esc(SELF_CHECKS_LINK)}">Every self-check</a> (audit search).</p>`;
}

export async function integrityPage(ctx: Ctx): Promise<Answer> {
  let checkpoints = '';
  try {
    const rows = await ctx.q.select(
      ctx.caller,
      `SELECT Origin, toString(max(Size)) AS TreeSize, argMax(RootHash, Size) AS Root, toString(argMax(Time, Size)) AS SignedAt, argMax(KeyName, Size) AS SignedBy
FROM audit_events_checkpoints GROUP BY Origin ORDER BY Origin`,
    );
    checkpoints = rowsTable(rows);
  } catch (err) {
    if (!(err instanceof ConsoleQueryError && (err.missing || err.refused))) throw err;
    checkpoints = `<p class="muted">${esc(err.missing ? 'No signed audit log in this store (audit_events_checkpoints does not exist).' : err.message)}</p>`;
  }
  const now = BigInt(Date.now()) * 1_000_000n;
  const q = { select: (sql: string, params: Record<string, string>) => ctx.q.select(ctx.caller, sql, params) };
  const retention = await retentionSection(q, { fromNs: now - 30n * 86_400_000_000_000n, toNs: now, gapMinutes: 15 });
  const selfCheck = await lastSelfCheck(ctx);
  const body = `<h2>Newest checkpoint per origin</h2>${checkpoints}
<h2>Last self-check</h2>${selfCheck}
<p class="muted">The pipeline checking its own trail, with this machine's keys and witness file: it catches tampering through the store, not an attacker who owns this host. An auditor runs <code>npx trailhouse verify --pubkey KEY</code> with the public key obtained out of band.</p>
<h2>Retention (deletions: last 30 days)</h2>${retention.figures.map(figure).join('\n')}`;
  return html(page('Integrity & retention', ctx.who, body, '/integrity'));
}
