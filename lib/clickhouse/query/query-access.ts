/**
 * The query interface's access record and its refusal answer.
 *
 * Every query (allowed, refused, or failed) is one log line (`query_log`, as
 * ClickHouse keeps system.query_log) and one `data_access` SecurityEvent,
 * which the audit processor stores in audit_events: who, with which role,
 * from where, what SQL, how it ended, rows and bytes it returned, how long. The
 * event is raised whatever `query_log` says.
 */
import type http from 'node:http';
import { emitSecurityEvent, nowNanos } from '../../../core/security-events.ts';
import type { Logger } from '../../../core/telemetry/logger.ts';
import { SURFACE, type AuthResult } from './query-auth.ts';
import type { Role } from './query-users.ts';

/** What the access log and event say about one request. */
export interface Access {
  user: string;
  role: Role;
  database: string;
  query: string;
  began: bigint;
  rows: number;
  bytes: number;
  /**
   * Admitted (it ran): its text is recorded whole, however long, so padding
   * (a long comment before the FROM) cannot push what was read past the cut;
   * the engine bounds an admitted text (max_query_size, 256 KiB).
   */
  admitted?: boolean;
  /** The text that ran with the query parameters substituted (what `{t:Identifier}` named), when it had any. */
  executed?: string;
}

/** SQL kept in the access event of a query that did not run (refused, unparsable), characters (the rest is cut, with the length noted). */
const MAX_AUDIT_SQL = 16_384;

/** `log` null: no log line (query_log: false); the event is raised either way. */
export function recordAccess(log: Logger | null, req: http.IncomingMessage, queryId: string, a: Access, status: number, code?: number): void {
  const elapsedMs = Number((process.hrtime.bigint() - a.began) / 1_000_000n);
  const remote = req.socket.remoteAddress ?? '';
  emitSecurityEvent({
    time: nowNanos(),
    category: 'data_access',
    action: 'query',
    // 403: refused by the read-only rules (or the role); other errors: the query failed.
    outcome: status === 200 ? 'allowed' : status === 403 ? 'denied' : 'failed',
    subject: a.user,
    source: remote,
    surface: SURFACE,
    reason: code !== undefined ? `code ${code}` : '',
    details: {
      sql: !a.admitted && a.query.length > MAX_AUDIT_SQL ? `${a.query.slice(0, MAX_AUDIT_SQL)}…(${a.query.length} chars)` : a.query,
      ...(a.executed !== undefined ? { executed_sql: a.executed } : {}),
      role: a.role,
      database: a.database,
      query_id: queryId,
      status: String(status),
      ...(code !== undefined ? { code: String(code) } : {}),
      result_rows: String(a.rows),
      result_bytes: String(a.bytes),
      duration_ms: String(elapsedMs),
    },
  });
  log?.info('query', {
    user: a.user,
    role: a.role,
    remote,
    query_id: queryId,
    query: a.query.replace(/\s+/g, ' ').trim().slice(0, 1000),
    status,
    ...(code !== undefined ? { code } : { result_rows: a.rows }),
    elapsed_ms: elapsedMs,
  });
}

/** 401 (with the Basic challenge), 400, 429 or 503: ClickHouse's body and code 516, never what was presented. */
export function sendRefusal(req: http.IncomingMessage, res: http.ServerResponse, r: Extract<AuthResult, { ok: false }>, version: string): void {
  req.resume();
  if (r.status === 401) res.setHeader('WWW-Authenticate', 'Basic realm="trailhouse query interface", charset="UTF-8"');
  if (r.retryAfter) res.setHeader('Retry-After', String(r.retryAfter));
  res.setHeader('X-ClickHouse-Exception-Code', '516');
  const body = `Code: 516. DB::Exception: Authentication failed: ${r.reason}. (AUTHENTICATION_FAILED) (version ${version || 'unknown'})\n`;
  res.statusCode = r.status;
  res.setHeader('Content-Type', 'text/plain; charset=UTF-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
