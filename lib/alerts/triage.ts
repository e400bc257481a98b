/**
 * Triage on the query interface (lib/clickhouse/query/query-routes.ts):
 *
 *   GET  /alerts/<id>                 the alert (any authenticated user; anyone on an open interface)
 *   POST /alerts/<id>/ack      {"note": "…"}   acknowledge
 *   POST /alerts/<id>/resolve  {"note": "…"}   resolve
 *
 * The user is the query interface's authenticated user; a status change is
 * refused on an interface without users (nobody to name: 403) and for any
 * role but `responder` (403), with the reason. Fail closed: an id that is not
 * 16 hex digits, a body that is not one JSON object with a `note` string of
 * 1..4096 characters (no control characters but newline and tab, no bidi
 * controls, `note` once), or one
 * larger than 16 KiB or not complete within 10 s, is refused (400 / 413 / 408)
 * before anything is looked up. Every accepted change is stored as a new
 * version of the alert before it is answered 200 (a store that does not
 * answer within 15 s: 202, and the change is recorded when it does), and raised as a
 * `configuration` SecurityEvent (action `alert.acknowledge` /
 * `alert.resolve`, principal the user, details the alert id, note and the
 * statuses), which the audit processor stores in audit_events and its
 * Merkle log. Every refused request is raised too: outcome `denied` for a
 * refused caller (403), `failed` for a refused request (400, 404, 405, 408,
 * 409, 413, 415, 500), with the status in its details.
 */
import type http from 'node:http';
import { emitSecurityEvent, nowNanos } from '../../core/security-events.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { QueryRoute, RouteCaller } from '../clickhouse/query/query-routes.ts';
import { ALERT_ID, type Alert, type AlertStatus } from './alert.ts';
import { webhookAlert } from './delivery/formats.ts';
import { parseNote, readBody, TriageError } from './triage-body.ts';

export const TRIAGE_ROLE = 'responder';
export { MAX_NOTE, parseNote, TriageError } from './triage-body.ts';

export interface TriageService {
  find(id: string): Promise<Alert | undefined>;
  setStatus(id: string, status: AlertStatus, by: string, note: string): Promise<{ before: Alert; after: Alert }>;
}

const ACTIONS: Record<string, { status: AlertStatus; action: string }> = {
  ack: { status: 'acknowledged', action: 'alert.acknowledge' },
  resolve: { status: 'resolved', action: 'alert.resolve' },
};

function send(res: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.statusCode = status;
  res.setHeader('Content-Type', 'application/json; charset=UTF-8');
  res.setHeader('Content-Length', Buffer.byteLength(text));
  if (status === 405) res.setHeader('Allow', 'POST');
  res.end(text);
}

/**
 * `storeWaitMs`: how long a status change waits for the store before it is
 * answered 202 (recorded later); `bodyDeadlineMs`: how long its body may take
 * to arrive (408 after).
 */
export function triageRoute(service: TriageService, logger: Logger, storeWaitMs = 15_000, bodyDeadlineMs?: number): QueryRoute {
  return async (req, res, url, caller) => {
    const parts = url.pathname.split('/'); // ['', 'alerts', id, action?]
    const id = parts[2] ?? '';
    const verb = parts[3];
    const method = req.method ?? 'GET';
    let action: (typeof ACTIONS)[string] | undefined;
    try {
      if (parts.length > 4 || !ALERT_ID.test(id)) throw new TriageError(400, 'expected /alerts/<id>[/ack|/resolve], the id 16 hex digits');
      if (verb === undefined) {
        req.resume();
        if (method !== 'GET' && method !== 'HEAD') throw new TriageError(405, 'an alert is read with GET');
        const a = await service.find(id);
        if (!a) throw new TriageError(404, `no alert ${id}`);
        // A read of the store like any query: who looked at which alert (a refused read: below).
        emitSecurityEvent({
          time: nowNanos(),
          category: 'data_access',
          action: 'alert.read',
          outcome: 'allowed',
          subject: caller.user,
          source: caller.remote,
          surface: 'query_interface',
          reason: '',
          details: { alert_id: id, role: caller.role, resource: `alert:${id}` },
        });
        return send(res, 200, { alert: webhookAlert(a, '') });
      }
      action = Object.hasOwn(ACTIONS, verb) ? ACTIONS[verb] : undefined;
      if (!action) throw new TriageError(404, `unknown action ${JSON.stringify(verb.slice(0, 40))}: ack or resolve`);
      if (method !== 'POST') throw new TriageError(405, 'a status change is a POST');
      refuseCaller(caller);
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') throw new TriageError(415, 'expected Content-Type: application/json');
      if (req.headers['content-encoding'] && req.headers['content-encoding'] !== 'identity') throw new TriageError(415, 'a compressed body is not taken here');
      const note = parseNote(await readBody(req, bodyDeadlineMs));
      const after = await changeStatus(service, logger, caller, id, verb, note, storeWaitMs);
      if (after) return send(res, 200, { alert: webhookAlert(after, '') });
      return send(res, 202, { accepted: true, reason: 'the store has not answered yet: the change is recorded (and audited) once it does' });
    } catch (err) {
      if (!req.complete) req.resume();
      const status = err instanceof TriageError ? err.status : 500;
      const reason = err instanceof TriageError ? err.message : 'the alert could not be stored: try again';
      if (status === 500) logger.error('alert triage failed', { alert: id, error: err });
      // Every refusal is audited, as every refused query is: what was tried, by whom, why not.
      const shown = ALERT_ID.test(id) ? id : JSON.stringify(id.slice(0, 40));
      const read = verb === undefined && (method === 'GET' || method === 'HEAD');
      emitSecurityEvent({
        time: nowNanos(),
        category: read ? 'data_access' : 'configuration',
        action: read ? 'alert.read' : (action?.action ?? 'alert.triage'),
        outcome: status === 403 || status === 401 ? 'denied' : 'failed',
        subject: caller.user,
        source: caller.remote,
        surface: 'query_interface',
        reason,
        details: { alert_id: shown, role: caller.role, resource: `alert:${shown}`, status: String(status), method: method.slice(0, 16) },
      });
      if (!res.headersSent) send(res, status, { error: reason });
    }
  };
}

/**
 * A checked status change (the caller may triage, the note is valid): stored
 * as a new version, then raised as a `configuration` SecurityEvent on
 * `surface`. The alert after the change, or undefined when the store did not
 * answer within storeWaitMs (the change and its event follow when it does).
 * Also what the console's Alerts page calls.
 */
export async function changeStatus(service: TriageService, logger: Logger, caller: RouteCaller, id: string, verb: string, note: string, storeWaitMs = 15_000, surface = 'query_interface'): Promise<Alert | undefined> {
  const act = Object.hasOwn(ACTIONS, verb) ? ACTIONS[verb]! : undefined;
  if (!act) throw new TriageError(404, `unknown action ${JSON.stringify(verb.slice(0, 40))}: ack or resolve`);
  // The audit event follows the stored version, whenever that is: a store
  // that is slow to answer delays the record, it never loses or splits it.
  const done = service.setStatus(id, act.status, caller.user, note).then(({ before, after }) => {
    emitSecurityEvent({
      time: nowNanos(),
      category: 'configuration',
      action: act.action,
      outcome: 'success',
      subject: caller.user,
      source: caller.remote,
      surface,
      reason: '',
      details: { alert_id: id, note, status_from: before.status, status_to: after.status, detector: after.detector, role: caller.role, resource: `alert:${id}` },
    });
    logger.info('alert triaged', { alert: id, status: after.status, user: caller.user });
    return after;
  });
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), storeWaitMs)));
  const after = await Promise.race([done, late]).finally(() => clearTimeout(timer));
  if (!after) {
    done.catch((err: unknown) => {
      // Answered 202 already: the audit trail at least records that the accepted change was not stored.
      logger.error('alert triage not stored', { alert: id, error: err });
      emitSecurityEvent({
        time: nowNanos(),
        category: 'configuration',
        action: act.action,
        outcome: 'failed',
        subject: caller.user,
        source: caller.remote,
        surface,
        reason: 'accepted (202) but not stored: the store did not take it before shutdown, or refused it',
        details: { alert_id: id, note, role: caller.role, resource: `alert:${id}`, status: '202' },
      });
    });
  }
  return after;
}

/** A refused status change, raised as a `configuration` event with outcome `denied`. */
export function triageDenied(caller: RouteCaller, id: string, verb: string, reason: string, surface = 'query_interface'): void {
  const act = Object.hasOwn(ACTIONS, verb) ? ACTIONS[verb]! : undefined;
  if (!act) return;
  emitSecurityEvent({
    time: nowNanos(),
    category: 'configuration',
    action: act.action,
    outcome: 'denied',
    subject: caller.user,
    source: caller.remote,
    surface,
    reason,
    details: { alert_id: id, role: caller.role, resource: `alert:${id}` },
  });
}

/** Why `c` may not triage (TriageError 403), or nothing. */
export function refuseCaller(c: RouteCaller): void {
  if (!c.authenticated) throw new TriageError(403, 'triage needs an authenticated user: configure query_users on the store with a user of role responder');
  if (c.role !== TRIAGE_ROLE) throw new TriageError(403, `the ${c.role} role may not triage alerts (role ${TRIAGE_ROLE} may)`);
}
