/**
 * The trace page, /trace/<id> (deep link to a span: ?span=<id> and
 * #span-<id>): the summary, the span waterfall with each span's logs and
 * audit events on it and its details (attributes, events, links) folded
 * under it, one interleaved timeline of spans, logs and audit events, and
 * the padding logs around the trace or the chosen span. JSON at
 * /api/trace/<id>.
 */
import { attrs, dur, esc, isoNs, notice, page, qs, SPAN_ID, TRACE_ID } from '../html.ts';
import type { Row } from '../query.ts';
import { BadRequest, html, json, type Answer, type Ctx } from './context.ts';
import { loadTrace, PADS, type TraceData } from './trace-data.ts';

interface Params {
  id: string;
  span: string;
  pad: number;
}

export function traceParams(ctx: Ctx, id: string): Params {
  if (!TRACE_ID.test(id)) throw new BadRequest('a trace id is 32 lowercase hex digits');
  const span = ctx.url.searchParams.get('span') ?? '';
  if (span && !SPAN_ID.test(span)) throw new BadRequest('span: 16 lowercase hex digits');
  const pad = Number(ctx.url.searchParams.get('pad') ?? '0');
  if (!(PADS as readonly number[]).includes(pad)) throw new BadRequest(`pad: one of ${PADS.join(', ')} seconds`);
  return { id, span, pad };
}

/** Spans depth-first from the roots (a span whose parent is not in the trace is a root), each with its depth. */
function ordered(spans: Row[]): { s: Row; depth: number }[] {
  const ids = new Set(spans.map((s) => String(s.SpanId)));
  const children = new Map<string, Row[]>();
  const roots: Row[] = [];
  for (const s of spans) {
    const p = String(s.ParentSpanId ?? '');
    if (p && ids.has(p) && p !== s.SpanId) children.set(p, [...(children.get(p) ?? []), s]);
    else roots.push(s);
  }
  const out: { s: Row; depth: number }[] = [];
  const seen = new Set<string>();
  const walk = (s: Row, depth: number) => {
    const id = String(s.SpanId);
    if (seen.has(id)) return;
    seen.add(id);
    out.push({ s, depth });
    for (const c of children.get(id) ?? []) walk(c, depth + 1);
  };
  for (const r of roots) walk(r, 0);
  // A cycle in hostile data: what was not reached is listed flat.
  for (const s of spans) if (!seen.has(String(s.SpanId))) walk(s, 0);
  return out;
}

function summary(d: TraceData): string {
  if (!d.summary) return `<h2>Summary</h2><p class="muted">${esc(d.summaryNote)}</p>`;
  const s = d.summary;
  const cells: [string, unknown][] = [
    ['Root', `${String(s.RootService)} ${String(s.RootName)}`],
    ['Start', s.Start],
    ['Duration', dur(Number(s.DurationNs))],
    ['Spans', s.SpanCount],
    ['Errors', s.ErrorCount],
    ['Services', (s.Services as string[] | undefined)?.join(', ')],
    ['Logs', s.LogCount],
    ['Audit events', Object.entries((s.AuditEvents as Record<string, unknown>) ?? {}).map(([k, v]) => `${k}: ${String(v)}`).join(', ')],
    ['Principals', (s.Principals as string[] | undefined)?.join(', ')],
  ];
  return `<h2>Summary</h2><dl class="attrs">${cells.map(([k, v]) => `<dt>${esc(k)}</dt><dd>${esc(v)}</dd>`).join('')}</dl>`;
}

function auditLine(a: Row): string {
  return `<div class="evt audit"><span class="kind audit">audit</span> ${esc(isoNs(a.ns))} <span class="${esc(a.Outcome)}">${esc(a.Outcome)}</span> ${esc(a.Category)}/${esc(a.Action)} ${esc(a.Principal)} → ${esc(a.Destination)} ${esc(a.Resource)}${a.Policy ? ` (policy ${esc(a.Policy)})` : ''}</div>`;
}

function logLine(l: Row): string {
  return `<div class="evt log"><span class="kind log">log</span> ${esc(isoNs(l.ns))} ${esc(l.SeverityText)} ${esc(l.ServiceName)}: ${esc(l.Body)}</div>`;
}

function waterfall(d: TraceData, p: Params): string {
  if (!d.spans.length) return '<h2>Spans</h2><p>No spans of this trace are stored.</p>';
  const t0 = d.spans.reduce((a, s) => (BigInt(String(s.ns)) < a ? BigInt(String(s.ns)) : a), BigInt(String(d.spans[0]!.ns)));
  const t1 = d.spans.reduce((a, s) => (BigInt(String(s.ns)) + BigInt(String(s.dur)) > a ? BigInt(String(s.ns)) + BigInt(String(s.dur)) : a), t0 + 1n);
  const total = Number(t1 - t0);
  const bySpan = (rows: Row[]) => {
    const m = new Map<string, Row[]>();
    for (const r of rows) m.set(String(r.SpanId), [...(m.get(String(r.SpanId)) ?? []), r]);
    return m;
  };
  const logs = bySpan(d.logs);
  const audit = bySpan(d.audit);
  const rows = ordered(d.spans)
    .map(({ s, depth }) => {
      const id = String(s.SpanId);
      const x = (Number(BigInt(String(s.ns)) - t0) / total) * 1000;
      const w = Math.max(2, (Number(s.dur) / total) * 1000);
      const status = String(s.StatusCode || 'Unset');
      const err = /error/i.test(status);
      const onSpan = [...(audit.get(id) ?? []).map(auditLine), ...(logs.get(id) ?? []).map(logLine)].join('');
      const events = (s.Events as [string, string, Record<string, string>][] | undefined) ?? [];
      const links = (s.Links as [string, string][] | undefined) ?? [];
      const target = p.span === id;
      return `<tr id="span-${esc(id)}"${target ? ' class="target"' : ''}>
<td class="name"><span aria-hidden="true">${'· '.repeat(Math.min(depth, 30))}</span>${esc(s.ServiceName)} <strong>${esc(s.SpanName)}</strong></td>
<td class="n">${esc(dur(Number(s.dur)))}</td><td class="${err ? 'error' : ''}">${esc(status)}${s.StatusMessage ? `: ${esc(s.StatusMessage)}` : ''}</td>
<td><svg class="bar" viewBox="0 0 1000 10" preserveAspectRatio="none" aria-hidden="true"><rect x="${x.toFixed(1)}" y="0" width="${Math.min(w, 1000 - x).toFixed(1)}" height="10" fill="${err ? '#b42318' : '#1f4e9c'}"/></svg></td></tr>
<tr><td colspan="4">${onSpan}<details${target ? ' open' : ''}><summary>Details of span ${esc(id)} (${esc(s.SpanKind)})</summary>
<h3>Attributes</h3>${attrs(s.SpanAttributes)}<h3>Resource</h3>${attrs(s.ResourceAttributes)}
<h3>Events</h3>${events.length ? `<ul>${events.map(([t, n, a]) => `<li>${esc(isoNs(t))} ${esc(n)} ${attrs(a)}</li>`).join('')}</ul>` : '<p class="muted">none</p>'}
<h3>Links</h3>${links.length ? `<ul>${links.map(([lt, ls]) => `<li>${TRACE_ID.test(lt) ? `<a href="/trace/${lt}${SPAN_ID.test(ls) ? `?span=${ls}#span-${ls}` : ''}">${esc(lt)} / ${esc(ls)}</a>` : esc(`${lt} / ${ls}`)}</li>`).join('')}</ul>` : '<p class="muted">none</p>'}
<p><a href="/trace/${esc(d.id)}?span=${esc(id)}#span-${esc(id)}">Link to this span</a></p></details></td></tr>`;
    })
    .join('\n');
  return `<h2>Spans (${d.spans.length})</h2><table class="wf"><thead><tr><th scope="col">Service / span</th><th scope="col">Duration</th><th scope="col">Status</th><th scope="col">${esc(`0 … ${dur(total)}`)}</th></tr></thead><tbody>
${rows}</tbody></table>`;
}

function timeline(d: TraceData): string {
  const items: { ns: bigint; html: string }[] = [];
  for (const s of d.spans) items.push({ ns: BigInt(String(s.ns)), html: `<span class="kind span">span</span> ${esc(s.ServiceName)} <a href="#span-${esc(s.SpanId)}">${esc(s.SpanName)}</a> (${esc(dur(Number(s.dur)))}, ${esc(s.StatusCode || 'Unset')})` });
  for (const l of d.logs) items.push({ ns: BigInt(String(l.ns)), html: `<span class="kind log">log</span> ${esc(l.SeverityText)} ${esc(l.ServiceName)}: ${esc(l.Body)}` });
  for (const a of d.audit) items.push({ ns: BigInt(String(a.ns)), html: `<span class="kind audit">audit</span> <span class="${esc(a.Outcome)}">${esc(a.Outcome)}</span> ${esc(a.Category)}/${esc(a.Action)} ${esc(a.Principal)} → ${esc(a.Destination)} ${esc(a.Resource)}` });
  items.sort((a, b) => (a.ns < b.ns ? -1 : a.ns > b.ns ? 1 : 0));
  return `<h2>Timeline: spans, logs and audit events</h2><ol class="timeline">${items.map((i) => `<li><time>${esc(isoNs(i.ns))}</time> ${i.html}</li>`).join('\n')}</ol>`;
}

function padding(d: TraceData, p: Params): string {
  const opts = PADS.map((s) => `<option value="${s}"${s === p.pad ? ' selected' : ''}>${s ? `${s} s` : 'none'}</option>`).join('');
  const form = `<form method="get" action="/trace/${esc(d.id)}">${p.span ? `<input type="hidden" name="span" value="${esc(p.span)}">` : ''}
<label>Logs of the same services just before and after the ${p.span ? 'span' : 'trace'}<select name="pad">${opts}</select></label> <button type="submit">Show</button></form>`;
  if (!p.pad) return `<h2>Padding</h2>${form}`;
  const list = (rows: Row[]) => (rows.length ? rows.map(logLine).join('') : '<p class="muted">none</p>');
  return `<h2>Padding</h2>${form}<h3>${esc(`${p.pad} s before`)}</h3>${list(d.before)}<h3>${esc(`${p.pad} s after`)}</h3>${list(d.after)}`;
}

export async function tracePage(ctx: Ctx, id: string): Promise<Answer> {
  const p = traceParams(ctx, id);
  const d = await loadTrace(ctx, p.id, p.pad, p.span);
  const empty = !d.spans.length && !d.logs.length && !d.audit.length;
  const body = `<p class="muted">Trace ${esc(d.id)}${p.span ? `, span ${esc(p.span)}` : ''} · <a href="/audit${qs({ trace: d.id, range: '30d' })}">its audit events in the search</a></p>
${empty ? notice('info', 'Nothing of this trace is stored (yet, or any more).') : ''}
${summary(d)}${waterfall(d, p)}${timeline(d)}${padding(d, p)}`;
  return html(page(`Trace ${d.id.slice(0, 8)}…`, ctx.who, body), empty ? 404 : 200);
}

export async function traceApi(ctx: Ctx, id: string): Promise<Answer> {
  const p = traceParams(ctx, id);
  const d = await loadTrace(ctx, p.id, p.pad, p.span);
  return json({ trace_id: d.id, summary: d.summary, spans: d.spans, logs: d.logs, audit: d.audit, before: d.before, after: d.after });
}
