/**
 * report.html: the facts (facts.ts) as one self-contained, printable page:
 * inline CSS with a print stylesheet, inline SVG charts, no script and no
 * URL of anything outside the page. Every value is escaped.
 */
import { esc } from './escape.ts';
import type { Figure, Row } from './figure.ts';
import type { ReportFacts } from './facts.ts';
import type { Section } from './sections.ts';
import { horizontalBars, stackedBars, type Stack } from './svg.ts';

const CSS = `body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1a1a1a;max-width:1100px;margin:2em auto;padding:0 1em}
h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #333;padding-bottom:.2em;margin-top:2em}h3{font-size:1.05em;margin:1.4em 0 .4em}
.tsc{display:inline-block;background:#eef;border:1px solid #99c;border-radius:3px;padding:0 .4em;margin-left:.4em;font-size:.75em;vertical-align:middle}
table{border-collapse:collapse;width:100%;margin:.4em 0;font-size:12.5px}th,td{border:1px solid #ccc;padding:2px 6px;text-align:left;vertical-align:top;word-break:break-word}
th{background:#f3f3f3}td.n{text-align:right;font-variant-numeric:tabular-nums}.na{color:#8a4b00;font-style:italic}.bad{color:#b42318;font-weight:bold}.ok{color:#2e7d32;font-weight:bold}
.warn{background:#fff3cd;border:1px solid #e0b300;padding:.5em 1em}details{margin:.2em 0 .8em}summary{cursor:pointer;color:#555;font-size:.85em}pre{white-space:pre-wrap;font-size:11.5px;background:#f7f7f7;padding:.5em}
.chart{width:100%;max-width:720px;height:auto}.meta td:first-child{width:12em;font-weight:bold}
@media print{body{margin:0;max-width:none;font-size:11px}details{display:none}h2{break-before:page}h2:first-of-type{break-before:avoid}table,svg{break-inside:avoid}a{color:inherit;text-decoration:none}}`;

const NUMERIC = /^-?\d+(\.\d+)?$/;

function cell(v: unknown): string {
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>);
    return esc(entries.map(([k, x]) => `${k}=${typeof x === 'string' ? x : JSON.stringify(x)}`).join('\n')).replace(/\n/g, '<br>');
  }
  return esc(v);
}

function tableOf(rows: readonly Row[]): string {
  if (!rows.length) return '<p>none in the period</p>';
  const cols = Object.keys(rows[0]!);
  const head = cols.map((c) => `<th>${esc(c)}</th>`).join('');
  const body = rows
    .map((r) => `<tr>${cols.map((c) => (typeof r[c] === 'string' && NUMERIC.test(r[c]) ? `<td class="n">${esc(r[c])}</td>` : `<td>${cell(r[c])}</td>`)).join('')}</tr>`)
    .join('\n');
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

/** Per day: denied, allowed and every other outcome, stacked. */
function auditChart(rows: readonly Row[]): string {
  const days = new Map<string, number[]>();
  for (const r of rows) {
    const d = String(r.Day);
    const v = days.get(d) ?? [0, 0, 0];
    const k = r.Outcome === 'denied' ? 0 : r.Outcome === 'allowed' ? 1 : 2;
    v[k]! += Number(r.Events);
    days.set(d, v);
  }
  const stacks: Stack[] = [...days].map(([label, values]) => ({ label, values }));
  return stacks.length ? stackedBars('Audit events per day: denied vs allowed', ['denied', 'allowed', 'other outcomes'], stacks) : '';
}

/** Per day, records of every service summed. */
function volumeChart(title: string, rows: readonly Row[]): string {
  const days = new Map<string, number>();
  for (const r of rows) days.set(String(r.Day), (days.get(String(r.Day)) ?? 0) + Number(r.Records));
  const stacks: Stack[] = [...days].map(([label, n]) => ({ label, values: [n] }));
  return stacks.length ? stackedBars(title, ['records'], stacks, ['#1565c0']) : '';
}

function figureHtml(f: Figure): string {
  const out: string[] = [`<h3>${esc(f.title)}</h3>`];
  if (f.unavailable !== undefined) out.push(`<p class="na">${esc(f.unavailable)}</p>`);
  else {
    const rows = f.rows ?? [];
    if (f.id === 'audit.daily') out.push(auditChart(rows));
    else if (f.id.startsWith('volume.')) out.push(volumeChart(`${f.title}: total per day`, rows));
    else if (f.id === 'audit.denied.principals' && rows.length) out.push(horizontalBars(f.title, rows.map((r) => ({ label: String(r.Principal), value: Number(r.Denied) }))));
    else if (f.id === 'audit.denied.destinations' && rows.length) out.push(horizontalBars(f.title, rows.map((r) => ({ label: String(r.Destination), value: Number(r.Denied) }))));
    out.push(tableOf(rows));
  }
  if (f.note) out.push(`<p><small>${esc(f.note)}</small></p>`);
  const params = Object.entries(f.params).map(([k, v]) => `${k} = ${v}`).join('\n');
  out.push(`<details><summary>SQL</summary><pre>${esc(f.sql)}${params ? `\n\n-- parameters\n${esc(params)}` : ''}</pre></details>`);
  return out.join('\n');
}

function sectionHtml(s: Section): string {
  const tags = s.criteria.map((c) => `<span class="tsc">${esc(c)}</span>`).join('');
  const notes = s.notes.map((n) => `<p class="${/^(FAILED|failure)/.test(n) ? 'bad' : /^verified/.test(n) ? 'ok' : /^not available/.test(n) ? 'na' : ''}">${esc(n)}</p>`).join('\n');
  return `<section id="${esc(s.id)}"><h2>${esc(s.title)}${tags}</h2>\n<p>${esc(s.about)}</p>\n${notes}\n${s.figures.map(figureHtml).join('\n')}</section>`;
}

export function renderHtml(f: ReportFacts): string {
  const toc = f.sections.map((s) => `<li><a href="#${esc(s.id)}">${esc(s.title)}</a> (${esc(s.criteria.join(', '))})</li>`).join('');
  const sig = f.signedBy
    ? `<p>Signed: <code>report.sig</code> is a signed note by key <code>${esc(f.signedBy)}</code> naming the SHA-256 of this file and of <code>report.json</code>. Check with <code>trailhouse verify --report DIR</code>.</p>`
    : '<p class="warn"><b>UNSIGNED</b>: this report was written with --unsigned; nothing attests that it is unchanged.</p>';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Evidence report ${esc(f.period.from)} to ${esc(f.period.to)}</title>
<style>${CSS}</style></head><body>
<h1>SOC 2 evidence report</h1>
<table class="meta"><tbody>
<tr><td>Period</td><td>${esc(f.period.from)} to ${esc(f.period.to)} (half-open: from included, to excluded)</td></tr>
<tr><td>Generated</td><td>${esc(f.generatedAt)}</td></tr>
<tr><td>Store</td><td>${esc(f.source.endpoint)}, database ${esc(f.source.database)}, read as ${esc(f.source.user || '(default user)')}</td></tr>
<tr><td>Format</td><td>${esc(f.format)}; the same facts with every figure's SQL are in report.json</td></tr>
</tbody></table>
${sig}
<nav><ol>${toc}</ol></nav>
${f.sections.map(sectionHtml).join('\n')}
</body></html>
`;
}
