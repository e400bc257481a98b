/**
 * Integrity and retention: the newest signed checkpoint per log origin
 * (audit_events_checkpoints), and the report's retention section as it is
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
  const body = `<h2>Newest checkpoint per origin</h2>${checkpoints}
<p class="muted">The last verification is not stored by the pipeline: run <code>npx trailhouse verify</code> (or render a report) to recompute every audit row against these checkpoints.</p>
<h2>Retention (deletions: last 30 days)</h2>${retention.figures.map(figure).join('\n')}`;
  return html(page('Integrity & retention', ctx.who, body, '/integrity'));
}
