/**
 * Console sessions: a random 256-bit id in a cookie (HttpOnly,
 * SameSite=Strict, Path=/, Secure under TLS), held in memory only, so a
 * restart logs everyone out. A new id is issued at every login and the
 * presented one is never adopted (no fixation); an id we did not issue finds
 * nothing. Lifetime is bounded twice: `idle` since the last request and
 * `lifetime` since the login. Each session has its own CSRF token, which the
 * one write (alert triage) and logout must carry as a form field.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import type { Role } from '../clickhouse/query/query-users.ts';

export const COOKIE = 'th_console';
const ID = /^[A-Za-z0-9_-]{43}$/;

export interface Session {
  user: string;
  role: Role;
  csrf: string;
  created: number;
  seen: number;
}

export interface SessionLimits {
  lifetimeMs: number;
  idleMs: number;
  max: number;
}

export class Sessions {
  private readonly byId = new Map<string, Session>();

  constructor(private readonly limits: SessionLimits, private readonly now: () => number = Date.now) {}

  create(user: string, role: Role): { id: string; session: Session } {
    if (this.byId.size >= this.limits.max) {
      this.sweep();
      // Still full: the oldest login goes (Map order is insertion order).
      while (this.byId.size >= this.limits.max) this.byId.delete(this.byId.keys().next().value!);
    }
    const id = randomBytes(32).toString('base64url');
    const t = this.now();
    const session = { user, role, csrf: randomBytes(32).toString('base64url'), created: t, seen: t };
    this.byId.set(id, session);
    return { id, session };
  }

  /** The live session of a cookie header, or undefined (none, malformed, unknown, expired). */
  find(cookieHeader: string | undefined): { id: string; session: Session } | undefined {
    const id = cookieValue(cookieHeader, COOKIE);
    if (!id || !ID.test(id)) return undefined;
    const s = this.byId.get(id);
    if (!s) return undefined;
    const t = this.now();
    if (t - s.created > this.limits.lifetimeMs || t - s.seen > this.limits.idleMs) {
      this.byId.delete(id);
      return undefined;
    }
    s.seen = t;
    return { id, session: s };
  }

  end(id: string): void {
    this.byId.delete(id);
  }

  get size(): number {
    return this.byId.size;
  }

  private sweep(): void {
    const t = this.now();
    for (const [id, s] of this.byId) if (t - s.created > this.limits.lifetimeMs || t - s.seen > this.limits.idleMs) this.byId.delete(id);
  }

  cookie(id: string, secure: boolean): string {
    return `${COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${Math.floor(this.limits.lifetimeMs / 1000)}${secure ? '; Secure' : ''}`;
  }

  static cleared(secure: boolean): string {
    return `${COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${secure ? '; Secure' : ''}`;
  }
}

/** The CSRF token matches the session's (constant time). */
export function csrfOk(s: Session, token: string | undefined): boolean {
  if (!token) return false;
  const a = Buffer.from(s.csrf);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** One cookie's value; a cookie given twice is refused (which one a proxy or browser would send first is what an attacker probes). */
export function cookieValue(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  let found: string | undefined;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i < 0 || part.slice(0, i).trim() !== name) continue;
    if (found !== undefined) return undefined;
    found = part.slice(i + 1).trim();
  }
  return found;
}
