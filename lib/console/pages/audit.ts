/**
 * Audit search: a period, filters, a histogram over time (denied vs the
 * rest), and one page of rows, newest first, each linking to its trace.
 * Also served as JSON (/api/audit).
 */
import { CATEGORIES, OUTCOMES } from '../../audit/event.ts';
import { esc, isoNs, notice, page, qs, SPAN_ID, TRACE_ID } from '../html.ts';
import type { Row } from '../query.ts';
import { BadRequest, html, json, type Answer, type Ctx } from './context.ts';

export const PAGE_SIZE = 50;
const RANGES: Record<string, number> = { '15m': 900, '1h': 3600, '6h': 21_600, '24h': 86_400, '7d': 604_800, '30d': 2_592_000, '365d': 31_536_000, all: 0 };
const TEXT_FILTERS = ['principal', 'destination', 'resource', 'service', 'policy', 'event', 'trace'] as const;

export interface AuditFilters {
  fromNs: bigint;
  toNs: bigint;
  range: string;
  category: string;
  outcome: string;
  principal: string;
  destination: string;
  resource: string;
  service: string;
  policy: string;
  event: string;
  trace: string;
  page: number;
}

/** `2026-12-07T13:00` (datetime-local, UTC) or an ISO time → ns; undefined when empty. */
function timeParam(v: string | null, name: string): bigint | undefined {
  if (!v) return undefined;
  const ms = Date.parse(/[zZ]|[+-]\d\d:\d\d$/.test(v) ? v : `${v}Z`);
  if (!Number.isFinite(ms)) throw new BadRequest(`${name}: not a time (expected e.g. 2026-12-07T13:00)`);
  return BigInt(ms) * 1_000_000n;
}

export function readFilters(url: URL, now = Date.now()): AuditFilters {
  const p = url.searchParams;
  const range = p.get('range') || '24h';
  if (!Object.hasOwn(RANGES, range)) throw new BadRequest(`range: one of ${Object.keys(RANGES).join(', ')}`);
  const toNs = timeParam(p.get('to'), 'to') ?? BigInt(now) * 1_000_000n;
  // `all`: from the epoch; searchAudit narrows it to the oldest matching row (for the histogram).
  const fromNs = timeParam(p.get('from'), 'from') ?? (range === 'all' ? 0n : toNs - BigInt(RANGES[range]!) * 1_000_000_000n);
  if (fromNs >= toNs) throw new BadRequest('from must be before to');
  const f: AuditFilters = { fromNs, toNs, range, category: p.get('category') ?? '', outcome: p.get('outcome') ?? '', principal: '', destination: '', resource: '', service: '', policy: '', event: '', trace: '', page: 0 };
  if (f.category && !(CATEGORIES as readonly string[]).includes(f.category)) throw new BadRequest(`category: one of ${CATEGORIES.join(', ')}`);
  if (f.outcome && !(OUTCOMES as readonly string[]).includes(f.outcome)) throw new BadRequest(`outcome: one of ${OUTCOMES.join(', ')}`);
  for (const k of TEXT_FILTERS) {
    const v = (p.get(k) ?? '').trim();
    if (v.length > 1024) throw new BadRequest(`${k}: longer than 1024 characters`);
    f[k] = v;
  }
  if (f.trace && !TRACE_ID.test(f.trace)) throw new BadRequest('trace: 32 lowercase hex digits');
  const pg = Number(p.get('page') ?? '0');
  if (!Number.isInteger(pg) || pg < 0 || pg > 10_000) throw new BadRequest('page: a whole number 0..10000');
  f.page = pg;
  return f;
}

/** A resource glob (`*` any run, `?` one character) as an anchored RE2 pattern. */
export function globRegex(glob: string): string {
  return `^${glob.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.')}$`;
}

function where(f: AuditFilters): { sql: string; params: Record<string, string> } {
  const c = ['Timestamp >= fromUnixTimestamp64Nano({from:Int64})', 'Timestamp < fromUnixTimestamp64Nano({to:Int64})'];
  const params: Record<string, string> = { from: String(f.fromNs), to: String(f.toNs) };
  const eq = (col: string, name: keyof AuditFilters) => {
    if (!f[name]) return;
    c.push(`${col} = {${name}:String}`);
    params[name] = String(f[name]);
  };
  eq('Category', 'category');
  eq('Outcome', 'outcome');
  eq('Principal', 'principal');
  eq('Destination', 'destination');
  eq('ServiceName', 'service');
  eq('Policy', 'policy');
  eq('TraceId', 'trace');
  if (f.event) {
    c.push("Details['event_id'] = {event:String}");
    params.event = f.event;
  }
  if (f.resource) {
    c.push('match(Resource, {resource:String})');
    params.resource = globRegex(f.resource);
  }
  return { sql: c.join(' AND '), params };
}

/** Bucket width: about 60 buckets over the period, in whole seconds. */
function stepOf(f: AuditFilters): number {
  const s = Number((f.toNs - f.fromNs) / 1_000_000_000n);
  return Math.max(1, Math.ceil(s / 60));
}

export interface AuditResult {
  total: number;
  histogram: { t: string; denied: number; other: number }[];
  rows: Row[];
  step: number;
}

export async function searchAudit(ctx: Ctx, f: AuditFilters): Promise<AuditResult> {
  if (f.fromNs === 0n) {
    const w0 = where(f);
    const first = await ctx.q.select(ctx.caller, `SELECT toString(toUnixTimestamp64Nano(min(Timestamp))) AS t, count() AS n FROM audit_events WHERE ${w0.sql}`, w0.params);
    if (Number(first[0]?.n) > 0) f.fromNs = BigInt(String(first[0]!.t));
    if (f.fromNs >= f.toNs) f.fromNs = f.toNs - 1_000_000_000n;
  }
  const w = where(f);
  const step = stepOf(f);
  const hist = await ctx.q.select(
    ctx.caller,
    `SELECT toString(toUnixTimestamp(toStartOfInterval(Timestamp, toIntervalSecond({step:UInt32})))) AS t, toString(countIf(Outcome IN ('denied', 'failure', 'rate_limited'))) AS denied,
  toString(countIf(Outcome NOT IN ('denied', 'failure', 'rate_limited'))) AS other FROM audit_events WHERE ${w.sql} GROUP BY t ORDER BY t`,
    { ...w.params, step: String(step) },
  );
  const histogram = hist.map((h) => ({ t: String(h.t), denied: Number(h.denied), other: Number(h.other) }));
  const total = histogram.reduce((a, h) => a + h.denied + h.other, 0);
  const rows = total
    ? await ctx.q.select(
        ctx.caller,
        `SELECT toString(toUnixTimestamp64Nano(Timestamp)) AS ns, Category, Action, Outcome, Principal, Source, Destination, Resource, Policy, TraceId, SpanId, ServiceName,
  Details['event_id'] AS EventId FROM audit_events WHERE ${w.sql} ORDER BY Timestamp DESC LIMIT {limit:UInt32} OFFSET {offset:UInt32}`,
        { ...w.params, limit: String(PAGE_SIZE), offset: String(f.page * PAGE_SIZE) },
      )
    : [];
  return { total, histogram, rows, step };
}

function histogramSvg(r: AuditResult, f: AuditFilters): string {
  if (!r.histogram.length) return '';
  const from = Number(f.fromNs / 1_000_000_000n);
  const n = Math.max(1, Math.ceil(Number((f.toNs - f.fromNs) / 1_000_000_000n) / r.step));
  const max = Math.max(1, ...r.histogram.map((h) => h.denied + h.other));
  const W = 1000;
  const H = 120;
  const bw = W / n;
  const bars = r.histogram
    .map((h) => {
      const i = Math.max(0, Math.floor((Number(h.t) - from) / r.step));
      const x = (i * bw).toFixed(1);
      const ho = (h.other / max) * H;
      const hd = (h.denied / max) * H;
      const label = `${new Date(Number(h.t) * 1000).toISOString()}: ${h.denied} denied/failed, ${h.other} other`;
      return `<g><title>${esc(label)}</title><rect x="${x}" y="${(H - ho - hd).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${hd.toFixed(1)}" fill="#b42318"/><rect x="${x}" y="${(H - ho).toFixed(1)}" width="${Math.max(1, bw - 1).toFixed(1)}" height="${ho.toFixed(1)}" fill="#2e7d32"/></g>`;
    })
    .join('');
  const denied = r.histogram.reduce((a, h) => a + h.denied, 0);
  return `<svg class="chart" viewBox="0 0 ${W} ${H + 4}" role="img" aria-label="${esc(`Audit events over time: ${denied} denied or failed (red), ${r.total - denied} other (green)`)}">${bars}</svg>
<p class="muted">${esc(`${new Date(from * 1000).toISOString()} … ${new Date(Number(f.toNs / 1_000_000n)).toISOString()}, ${r.step}s per bar; red: denied/failure/rate_limited, green: the rest`)}</p>`;
}

function option(v: string, cur: string, label = v): string {
  return `<option value="${esc(v)}"${v === cur ? ' selected' : ''}>${esc(label)}</option>`;
}

function form(f: AuditFilters, url: URL): string {
  const text = (k: (typeof TEXT_FILTERS)[number], label: string, hint = '') =>
    `<label>${esc(label)}<input name="${k}" value="${esc(f[k])}"${hint ? ` placeholder="${esc(hint)}"` : ''}></label>`;
  return `<form class="filters" method="get" action="/audit" role="search">
<label>Range<select name="range">${Object.keys(RANGES).map((r) => option(r, f.range, r === 'all' ? 'everything' : `last ${r}`)).join('')}</select></label>
<label>From (UTC, overrides range)<input type="datetime-local" name="from" value="${esc(url.searchParams.get('from') ?? '')}"></label>
<label>To (UTC)<input type="datetime-local" name="to" value="${esc(url.searchParams.get('to') ?? '')}"></label>
<label>Category<select name="category">${option('', f.category, 'any')}${CATEGORIES.map((c) => option(c, f.category)).join('')}</select></label>
<label>Outcome<select name="outcome">${option('', f.outcome, 'any')}${OUTCOMES.map((c) => option(c, f.outcome)).join('')}</select></label>
${text('principal', 'Principal', 'spiffe://…')}${text('destination', 'Destination')}${text('resource', 'Resource (glob)', '/admin/*')}
${text('service', 'Service')}${text('policy', 'Policy')}${text('event', 'Event id')}${text('trace', 'Trace id')}
<button type="submit">Search</button></form>`;
}

function table(rows: Row[]): string {
  if (!rows.length) return '<p>No audit events match.</p>';
  const body = rows
    .map((r) => {
      const t = String(r.TraceId ?? '');
      const s = String(r.SpanId ?? '');
      const link = TRACE_ID.test(t) ? `<a href="/trace/${t}${SPAN_ID.test(s) ? `?span=${s}#span-${s}` : ''}">trace</a>` : '<span class="muted">none</span>';
      return `<tr><td>${esc(isoNs(r.ns))}</td><td>${esc(r.Category)}</td><td>${esc(r.Action)}</td><td class="${esc(r.Outcome)}">${esc(r.Outcome)}</td><td>${esc(r.Principal)}</td><td>${esc(r.Destination)}</td><td>${esc(r.Resource)}</td><td>${esc(r.Policy)}</td><td>${esc(r.ServiceName)}</td><td>${link}</td></tr>`;
    })
    .join('\n');
  return `<table><caption class="muted">Newest first</caption><thead><tr><th scope="col">Time (UTC)</th><th scope="col">Category</th><th scope="col">Action</th><th scope="col">Outcome</th><th scope="col">Principal</th><th scope="col">Destination</th><th scope="col">Resource</th><th scope="col">Policy</th><th scope="col">Service</th><th scope="col">Trace</th></tr></thead><tbody>
${body}</tbody></table>`;
}

function pager(f: AuditFilters, url: URL, total: number): string {
  const pages = Math.ceil(total / PAGE_SIZE);
  if (pages <= 1) return '';
  const base = Object.fromEntries(url.searchParams);
  const link = (pg: number, label: string) => `<a href="/audit${qs({ ...base, page: pg })}">${esc(label)}</a>`;
  return `<nav class="pager" aria-label="Pages">${f.page > 0 ? link(f.page - 1, '← Newer') : ''}<span>page ${f.page + 1} of ${pages}</span>${f.page + 1 < pages ? link(f.page + 1, 'Older →') : ''}</nav>`;
}

export async function auditPage(ctx: Ctx): Promise<Answer> {
  const f = readFilters(ctx.url);
  const r = await searchAudit(ctx, f);
  const body = `${form(f, ctx.url)}
<h2>${esc(`${r.total} audit events`)}</h2>
${histogramSvg(r, f)}
${r.total > 0 && !r.rows.length ? notice('info', 'No rows on this page.') : ''}
${pager(f, ctx.url, r.total)}${table(r.rows)}${pager(f, ctx.url, r.total)}`;
  return html(page('Audit search', ctx.who, body, '/audit'));
}

export async function auditApi(ctx: Ctx): Promise<Answer> {
  const f = readFilters(ctx.url);
  const r = await searchAudit(ctx, f);
  return json({ from: String(f.fromNs), to: String(f.toNs), total: r.total, step_s: r.step, histogram: r.histogram, page: f.page, page_size: PAGE_SIZE, rows: r.rows });
}
