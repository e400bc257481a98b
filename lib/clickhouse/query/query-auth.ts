/**
 * Authentication on the query interface: who is asking (`{ user, role }`),
 * or why they are refused, with the HTTP status to answer.
 *
 * - 401 + `WWW-Authenticate: Basic`: no or wrong credentials. We answer 401
 *   rather than ClickHouse's 403: it is the HTTP meaning (retry with other
 *   credentials), browsers and curl prompt on it, and @clickhouse/client and
 *   Grafana read the error from the body, which stays ClickHouse's
 *   `Code: 516 … (AUTHENTICATION_FAILED)`.
 * - 400: credentials sent in a refused way (URL password, given twice,
 *   malformed Basic); retrying the same request cannot succeed.
 * - 429 + Retry-After: the source failed too often (login-throttle.ts).
 * - 503 + Retry-After: too many bcrypt comparisons are waiting
 *   (bcrypt-worker.ts); remembered logins are not affected.
 *
 * Every refusal raises an `authentication` SecurityEvent (the start of a
 * block as `rate_limited`; the refused attempts during a block are counted,
 * not each stored, so a flood cannot flood the audit table). The presented
 * password is never in an event, a log line or an answer; the claimed user
 * name is, when it looks like one.
 */
import type http from 'node:http';
import { emitSecurityEvent, nowNanos } from '../../../core/security-events.ts';
import type { Logger } from '../../../core/telemetry/logger.ts';
import type { Counter, MetricsRegistry } from '../../../core/telemetry/metrics.ts';
import { readCredentials } from './query-credentials.ts';
import { LoginThrottle, sourceKey, type LoginThrottleConfig } from './login-throttle.ts';
import { BcryptWorker } from './bcrypt-worker.ts';
import { BUSY, USER_NAME, UserDirectory, type QueryUserConfig, type Role } from './query-users.ts';

export const SURFACE = 'query_interface';

export type AuthResult =
  | { ok: true; user: string; role: Role }
  | { ok: false; status: 400 | 401 | 429 | 503; reason: string; retryAfter?: number };

/** A claimed user name as it may be logged: names that do not look like one (a password in the wrong field?) are not. */
export function loggableUser(u: string): string {
  return USER_NAME.test(u) ? u : u === '' ? '' : '(not a user name)';
}

export class QueryAuthenticator {
  readonly users: UserDirectory | null;
  private readonly bcrypt = new BcryptWorker();
  private readonly throttle: LoginThrottle;
  private readonly failures: Record<'failure' | 'rate_limited', Counter> | undefined;

  constructor(
    users: Record<string, QueryUserConfig> | null | undefined,
    throttle: LoginThrottleConfig,
    private readonly logger: Logger,
    metrics?: MetricsRegistry,
  ) {
    this.users = users && Object.keys(users).length ? new UserDirectory(users, { compare: this.bcrypt.compare }) : null;
    this.throttle = new LoginThrottle(throttle);
    this.failures = metrics && {
      failure: metrics.counter('trailhouse_query_auth_refused', 'Refused logins on the query interface, by outcome.', { outcome: 'failure' }),
      rate_limited: metrics.counter('trailhouse_query_auth_refused', 'Refused logins on the query interface, by outcome.', { outcome: 'rate_limited' }),
    };
  }

  get required(): boolean {
    return this.users !== null;
  }

  async authenticate(req: http.IncomingMessage, url: URL): Promise<AuthResult> {
    const remote = req.socket.remoteAddress ?? '';
    const source = sourceKey(remote);
    const wait = this.throttle.blockedFor(source);
    if (wait > 0) {
      this.failures?.rate_limited.add(1);
      return { ok: false, status: 429, reason: `too many failed logins from this address: retry after ${wait}s`, retryAfter: wait };
    }
    const c = readCredentials(req, url);
    if (!c.ok) {
      // Without users an absent credential is the open interface's normal request.
      if (c.kind === 'missing' && !this.users) return { ok: true, user: 'default', role: 'reader' };
      return this.refuse(remote, source, c.kind === 'missing' ? 401 : 400, c.reason, c.user);
    }
    if (!this.users) return { ok: true, user: loggableUser(c.user) || 'default', role: 'reader' };
    const role = await this.users.verify(c.user, c.password);
    if (role === BUSY) {
      this.logger.warn('query interface: too many logins being checked', { remote });
      return { ok: false, status: 503, reason: 'too many logins are being checked: retry shortly', retryAfter: 1 };
    }
    if (!role) return this.refuse(remote, source, 401, 'password is incorrect, or there is no user with such name', c.user);
    this.throttle.succeed(source);
    return { ok: true, user: c.user, role };
  }

  close(): Promise<void> {
    return this.bcrypt.close();
  }

  /** A refused TLS handshake (no or untrusted client certificate) counts as a failed login. */
  refuseHandshake(remote: string, reason: string): void {
    this.refuse(remote, sourceKey(remote), 401, reason, '', 'tls handshake');
  }

  private refuse(remote: string, source: string, status: 400 | 401, reason: string, claimed: string, action = 'login'): AuthResult {
    const subject = loggableUser(claimed);
    this.failures?.failure.add(1);
    this.logger.warn('query interface: authentication failed', { user: subject, remote, status, reason });
    emitSecurityEvent({ time: nowNanos(), category: 'authentication', action, outcome: 'failure', subject, source: remote, surface: SURFACE, reason, details: { status: String(status) } });
    if (this.throttle.fail(source)) {
      const why = 'too many failed logins from this address';
      this.logger.warn('query interface: source blocked', { remote, reason: why });
      emitSecurityEvent({ time: nowNanos(), category: 'authentication', action, outcome: 'rate_limited', subject, source: remote, surface: SURFACE, reason: why, details: { status: '429', blocked_for_s: String(this.throttle.blockedFor(source)) } });
    }
    return { ok: false, status, reason };
  }
}
