/**
 * Alerts: the current version of each alert (audit_alerts FINAL), its
 * evidence as links (event ids → the audit search, trace ids → the trace
 * page), and the triage forms. Acknowledge/resolve is the console's one
 * write: it goes through the alerts extension's triage (lib/alerts/triage.ts
 * changeStatus: a new version stored, then a `configuration` audit event),
 * only for an authenticated `responder`, with the session's CSRF token.
 */
import type { Logger } from '../../../core/telemetry/logger.ts';
import { ALERT_ID } from '../../alerts/alert.ts';
import { changeStatus, parseNote, refuseCaller, triageDenied, TriageError, type TriageService } from '../../alerts/triage.ts';
import { esc, isoNs, notice, page, qs, TRACE_ID } from '../html.ts';
import { ConsoleQueryError, type Row } from '../query.ts';
import { CONSOLE_SURFACE } from '../auth.ts';
import { BadRequest, html, type Answer, type Ctx } from './context.ts';

const STATUSES = ['', 'open', 'acknowledged', 'resolved'];

function evidence(a: Row): string {
  const events = ((a.EventIds as string[] | undefined) ?? []).map((e) => `<a href="/audit${qs({ event: e, range: '30d' })}">${esc(e)}</a>`);
  const traces = ((a.TraceIds as string[] | undefined) ?? []).filter((t) => TRACE_ID.test(t)).map((t) => `<a href="/trace/${t}">${t.slice(0, 12)}…</a>`);
  return [events.length ? `events: ${events.join(', ')}` : '', traces.length ? `traces: ${traces.join(', ')}` : ''].filter(Boolean).join('<br>') || '<span class="muted">none</span>';
}

function triageForm(ctx: Ctx, a: Row, canTriage: string | null): string {
  if (canTriage) return `<span class="muted">${esc(canTriage)}</span>`;
  if (a.Status === 'resolved') return '<span class="muted">resolved</span>';
  const id = esc(a.Id);
  return `<form class="triage" method="post" action="/alerts/${id}/triage"><input type="hidden" name="csrf" value="${esc(ctx.who.csrf)}">
<label>Note<textarea name="note" rows="2" required maxlength="4096"></textarea></label>
${a.Status === 'open' ? '<button type="submit" name="action" value="ack">Acknowledge</button>' : ''}<button type="submit" name="action" value="resolve" class="secondary">Resolve</button></form>`;
}

export async function alertsPage(ctx: Ctx, triage: TriageService | null): Promise<Answer> {
  const status = ctx.url.searchParams.get('status') ?? '';
  if (!STATUSES.includes(status)) throw new BadRequest(`status: one of ${STATUSES.filter(Boolean).join(', ')}`);
  let rows: Row[] = [];
  let missing = '';
  try {
    rows = await ctx.q.select(
      ctx.caller,
      `SELECT Id, Status, Detector, Severity, Principal, Source, Destination, Resource, Reason, toString(Count) AS Count, EventIds, TraceIds,
  toString(toUnixTimestamp64Nano(FirstSeen)) AS FirstNs, toString(toUnixTimestamp64Nano(LastSeen)) AS LastNs, StatusBy, Note
FROM audit_alerts FINAL WHERE {status:String} = '' OR Status = {status:String} ORDER BY LastSeen DESC LIMIT 200`,
      { status },
    );
  } catch (err) {
    if (!(err instanceof ConsoleQueryError && err.missing)) throw err;
    missing = 'No alerts table in this store: detection (the alerts extension) is not configured.';
  }
  let canTriage: string | null = null;
  if (!triage) canTriage = 'triage is not served: the console has no alerts extension (console.alerts)';
  else {
    try {
      refuseCaller({ ...ctx.caller });
    } catch (err) {
      canTriage = (err as Error).message;
    }
  }
  const done = ctx.url.searchParams.get('done');
  const filter = `<form method="get" action="/alerts" class="filters"><label>Status<select name="status">${STATUSES.map((s) => `<option value="${s}"${s === status ? ' selected' : ''}>${s || 'any'}</option>`).join('')}</select></label><button type="submit">Show</button></form>`;
  const table = rows.length
    ? `<table><thead><tr><th scope="col">Last seen</th><th scope="col">Status</th><th scope="col">Severity</th><th scope="col">Detector</th><th scope="col">Principal → destination</th><th scope="col">Reason</th><th scope="col">Count</th><th scope="col">Evidence</th><th scope="col">Triage</th></tr></thead><tbody>
${rows
  .map(
    (a) => `<tr id="alert-${esc(a.Id)}"><td>${esc(isoNs(a.LastNs))}</td><td>${esc(a.Status)}${a.StatusBy ? `<br><span class="muted">by ${esc(a.StatusBy)}: ${esc(a.Note)}</span>` : ''}</td><td>${esc(a.Severity)}</td><td>${esc(a.Detector)}</td>
<td>${esc(a.Principal)} → ${esc(a.Destination)} ${esc(a.Resource)}</td><td>${esc(a.Reason)}</td><td class="n">${esc(a.Count)}</td><td>${evidence(a)}</td><td>${triageForm(ctx, a, canTriage)}</td></tr>`,
  )
  .join('\n')}</tbody></table>`
    : `<p>${esc(missing || 'No alerts.')}</p>`;
  const body = `${done && ALERT_ID.test(done) ? notice('info', `Alert ${done} updated; the change is recorded as an audit event.`) : ''}${filter}${table}`;
  return html(page('Alerts', ctx.who, body, '/alerts'));
}

/** POST /alerts/<id>/triage (form: csrf checked by the server, action, note). Answers a redirect, or the reason it is refused. */
export async function triagePost(ctx: Ctx, triage: TriageService | null, logger: Logger, id: string, form: URLSearchParams): Promise<Answer | { redirect: string }> {
  const verb = form.get('action') ?? '';
  try {
    if (!ALERT_ID.test(id)) throw new TriageError(400, 'an alert id is 16 hex digits');
    if (verb !== 'ack' && verb !== 'resolve') throw new TriageError(400, 'action: ack or resolve');
    if (!triage) throw new TriageError(404, 'triage is not served: the console has no alerts extension');
    refuseCaller(ctx.caller);
    const note = parseNote(JSON.stringify({ note: form.get('note') ?? '' }));
    if (!(await triage.find(id))) throw new TriageError(404, `no alert ${id}`);
    await changeStatus(triage, logger, ctx.caller, id, verb, note, 15_000, CONSOLE_SURFACE);
    return { redirect: `/alerts?done=${id}#alert-${id}` };
  } catch (err) {
    if (!(err instanceof TriageError)) throw err;
    if (err.status === 403) triageDenied(ctx.caller, id, verb, err.message, CONSOLE_SURFACE);
    return html(page('Alert not changed', ctx.who, `${notice('error', err.message)}<p><a href="/alerts">Back to the alerts</a></p>`, '/alerts'), err.status);
  }
}
