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
 * 1..4096 characters (no control characters but newline and tab), or one
 * larger than 16 KiB or not complete within 10 s, is refused (400 / 413 / 408)
 * before anything is looked up. Every accepted change is stored as a new
 * version of the alert before it is answered 200 (a store that does not
 * answer within 15 s: 202, and the change is recorded when it does), and raised as a
 * `configuration` SecurityEvent (action `alert.acknowledge` /
 * `alert.resolve`, principal the user, details the alert id, note and the
 * statuses), which the audit processor stores in audit_events and its
 * Merkle log; a refused change is raised too, with outcome `denied`.
 */
import type http from 'node:http';
import { emitSecurityEvent, nowNanos } from '../../core/security-events.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { QueryRoute, RouteCaller } from '../clickhouse/query/query-routes.ts';
import { ALERT_ID, type Alert, type AlertStatus } from './alert.ts';
import { webhookAlert } from './delivery/formats.ts';

export const TRIAGE_ROLE = 'responder';
export const MAX_NOTE = 4096;
const MAX_BODY = 16 * 1024;
const BODY_DEADLINE_MS = 10_000;
const NOTE_OK = /^[^\x00-\x08\x0b-\x1f\x7f]*$/;

export class TriageError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

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

/** The body, whole, within the size and time bounds. */
function readBody(req: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > MAX_BODY) return reject(new TriageError(413, `the body is larger than ${MAX_BODY} bytes`));
    const chunks: Buffer[] = [];
    let size = 0;
    const timer = setTimeout(() => fail(new TriageError(408, `the body did not arrive within ${BODY_DEADLINE_MS / 1000}s`)), BODY_DEADLINE_MS);
    const fail = (err: TriageError) => {
      clearTimeout(timer);
      req.removeAllListeners('data');
      req.resume();
      reject(err);
    };
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) return fail(new TriageError(413, `the body is larger than ${MAX_BODY} bytes`));
      chunks.push(c);
    });
    req.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('aborted', () => fail(new TriageError(400, 'the body was not sent whole')));
    req.on('error', () => fail(new TriageError(400, 'the body was not sent whole')));
  });
}

/** The note of a triage body, or why it is refused. */
export function parseNote(body: string): string {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    throw new TriageError(400, 'expected a JSON object {"note": "…"}');
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new TriageError(400, 'expected a JSON object {"note": "…"}');
  const keys = Object.keys(v);
  if (keys.some((k) => k !== 'note')) throw new TriageError(400, `unknown key ${JSON.stringify(keys.find((k) => k !== 'note'))}: only "note" is taken`);
  const note = (v as { note?: unknown }).note;
  if (typeof note !== 'string' || !note.trim()) throw new TriageError(400, 'a note is required: why it is acknowledged or resolved');
  if (note.length > MAX_NOTE) throw new TriageError(400, `the note is longer than ${MAX_NOTE} characters`);
  if (!NOTE_OK.test(note)) throw new TriageError(400, 'the note holds control characters');
  return note;
}

/** `storeWaitMs`: how long a status change waits for the store before it is answered 202 (recorded later). */
export function triageRoute(service: TriageService, logger: Logger, storeWaitMs = 15_000): QueryRoute {
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
        // A read of the store like any query: who looked at which alert.
        emitSecurityEvent({
          time: nowNanos(),
          category: 'data_access',
          action: 'alert.read',
          outcome: a ? 'allowed' : 'failed',
          subject: caller.user,
          source: caller.remote,
          surface: 'query_interface',
          reason: a ? '' : 'no such alert',
          details: { alert_id: id, role: caller.role, resource: `alert:${id}` },
        });
        if (!a) throw new TriageError(404, `no alert ${id}`);
        return send(res, 200, { alert: webhookAlert(a, '') });
      }
      action = Object.hasOwn(ACTIONS, verb) ? ACTIONS[verb] : undefined;
      if (!action) throw new TriageError(404, `unknown action ${JSON.stringify(verb.slice(0, 40))}: ack or resolve`);
      if (method !== 'POST') throw new TriageError(405, 'a status change is a POST');
      refuseCaller(caller);
      const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/json') throw new TriageError(415, 'expected Content-Type: application/json');
      if (req.headers['content-encoding'] && req.headers['content-encoding'] !== 'identity') throw new TriageError(415, 'a compressed body is not taken here');
      const note = parseNote(await readBody(req));
      const after = await changeStatus(service, logger, caller, id, verb, note, storeWaitMs);
      if (after) return send(res, 200, { alert: webhookAlert(after, '') });
      return send(res, 202, { accepted: true, reason: 'the store has not answered yet: the change is recorded (and audited) once it does' });
    } catch (err) {
      if (!req.complete) req.resume();
      const status = err instanceof TriageError ? err.status : 500;
      const reason = err instanceof TriageError ? err.message : 'the alert could not be stored: try again';
      if (status === 500) logger.error('alert triage failed', { alert: id, error: err });
      if (action && (status === 403 || status === 401)) {
        emitSecurityEvent({
          time: nowNanos(),
          category: 'configuration',
          action: action.action,
          outcome: 'denied',
          subject: caller.user,
          source: caller.remote,
          surface: 'query_interface',
          reason,
          details: { alert_id: id, role: caller.role, resource: `alert:${id}` },
        });
      }
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
  if (!after) done.catch((err: unknown) => logger.error('alert triage not stored', { alert: id, error: err }));
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
