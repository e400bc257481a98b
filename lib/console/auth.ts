/**
 * Console logins: the query interface's users (the same UserDirectory, so
 * the same hashes, constant-time checks and bcrypt worker) and the same
 * failed-login throttling (an equal LoginThrottle with the store's
 * `query_login_throttle`). Every refusal is an `authentication`
 * SecurityEvent on the surface `console`, as the query interface raises
 * them; the password is never in an event, a log line or a page.
 */
import { emitSecurityEvent, nowNanos } from '../../core/security-events.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import { BcryptWorker } from '../clickhouse/query/bcrypt-worker.ts';
import { LoginThrottle, sourceKey, type LoginThrottleConfig } from '../clickhouse/query/login-throttle.ts';
import { loggableUser } from '../clickhouse/query/query-auth.ts';
import { BUSY, UserDirectory, type QueryUserConfig, type Role } from '../clickhouse/query/query-users.ts';

export const CONSOLE_SURFACE = 'console';

export type LoginResult = { ok: true; user: string; role: Role } | { ok: false; status: 401 | 429 | 503; reason: string; retryAfter?: number };

export class ConsoleAuth {
  readonly users: UserDirectory | null;
  private readonly bcrypt = new BcryptWorker();
  private readonly throttle: LoginThrottle;

  constructor(users: Record<string, QueryUserConfig> | null | undefined, throttle: LoginThrottleConfig, private readonly logger: Logger) {
    this.users = users && Object.keys(users).length ? new UserDirectory(users, { compare: this.bcrypt.compare }) : null;
    this.throttle = new LoginThrottle(throttle);
  }

  /** False: no users configured (the console is open on loopback, read-only, as the query interface is). */
  get required(): boolean {
    return this.users !== null;
  }

  async login(user: string, password: string, remote: string): Promise<LoginResult> {
    const source = sourceKey(remote);
    const wait = this.throttle.blockedFor(source);
    if (wait > 0) return { ok: false, status: 429, reason: `too many failed logins from this address: retry after ${wait}s`, retryAfter: wait };
    if (!this.users) return this.refuse(remote, source, 'this console has no users (configure query_users on the store)', user);
    // Bounded before any work: a megabyte "password" is not hashed.
    if (user.length > 256 || password.length > 1024) return this.refuse(remote, source, 'user or password too long', '');
    const role = await this.users.verify(user, password);
    if (role === BUSY) {
      this.logger.warn('console: too many logins being checked', { remote });
      return { ok: false, status: 503, reason: 'too many logins are being checked: retry shortly', retryAfter: 1 };
    }
    if (!role) return this.refuse(remote, source, 'password is incorrect, or there is no user with such name', user);
    this.throttle.succeed(source);
    emitSecurityEvent({ time: nowNanos(), category: 'authentication', action: 'login', outcome: 'success', subject: user, source: remote, surface: CONSOLE_SURFACE, reason: '', details: { role } });
    return { ok: true, user, role };
  }

  /**
   * A request refused before it reached a page (an unknown or expired session
   * cookie, a POST without the CSRF token or from another origin): raised, and
   * counted against the source like a failed login, so a flood of forged
   * cookies is throttled (and not stored event by event) as guessing is.
   */
  refused(remote: string, action: string, reason: string, subject = ''): void {
    const source = sourceKey(remote);
    if (this.throttle.blockedFor(source) > 0) return;
    this.logger.warn('console: request refused', { remote, action, reason, user: loggableUser(subject) });
    emitSecurityEvent({ time: nowNanos(), category: 'authentication', action, outcome: 'failure', subject: loggableUser(subject), source: remote, surface: CONSOLE_SURFACE, reason, details: {} });
    if (this.throttle.fail(source)) {
      emitSecurityEvent({ time: nowNanos(), category: 'authentication', action, outcome: 'rate_limited', subject: loggableUser(subject), source: remote, surface: CONSOLE_SURFACE, reason: 'too many refused requests from this address', details: { status: '429', blocked_for_s: String(this.throttle.blockedFor(source)) } });
    }
  }

  /** Seconds `remote` is still blocked for (0: not blocked). */
  blockedFor(remote: string): number {
    return this.throttle.blockedFor(sourceKey(remote));
  }

  close(): Promise<void> {
    return this.bcrypt.close();
  }

  private refuse(remote: string, source: string, reason: string, claimed: string): LoginResult {
    const subject = loggableUser(claimed);
    this.logger.warn('console: login failed', { user: subject, remote, reason });
    emitSecurityEvent({ time: nowNanos(), category: 'authentication', action: 'login', outcome: 'failure', subject, source: remote, surface: CONSOLE_SURFACE, reason, details: { status: '401' } });
    if (this.throttle.fail(source)) {
      const why = 'too many failed logins from this address';
      emitSecurityEvent({ time: nowNanos(), category: 'authentication', action: 'login', outcome: 'rate_limited', subject, source: remote, surface: CONSOLE_SURFACE, reason: why, details: { status: '429', blocked_for_s: String(this.throttle.blockedFor(source)) } });
    }
    return { ok: false, status: 401, reason: 'wrong user or password' };
  }
}
