/**
 * The query interface's users: named, each with a role and a password HASH
 * (never the password), configured once on the clickhouse exporter:
 *
 *   query_users:
 *     sre:   { password_bcrypt_hash: "$2b$10$…", role: reader }
 *     audit: { password_sha256_hex: "5e88…", role: auditor }
 *
 * `password_bcrypt_hash` is what `trailhouse hash-password` prints (bcrypt,
 * slow by design, salted); `password_sha256_hex` is ClickHouse's users.xml
 * convention (`echo -n "$PASSWORD" | sha256sum`), fast and unsalted: for long
 * random passwords only.
 *
 * Verification is constant-time per hash kind, and an unknown user costs what
 * a wrong password costs (the same SHA-256 compare, then one bcrypt against a
 * dummy hash of the configured cost), so timing does not tell which names
 * exist. A successful bcrypt verification is remembered for a short while
 * (keyed by an HMAC of user and password under a per-process random key, so
 * the cache holds nothing an offline attack could use), because a dashboard
 * sends many queries and each would otherwise cost a bcrypt.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import { s, type ConfigError, type Schema } from '../../../core/config/schema.ts';
import type { Compare } from './bcrypt-worker.ts';

/**
 * `reader`: every table of the store; `auditor`: the audit tables only
 * (admission enforces it); `responder`: reads as a reader and may triage
 * alerts (acknowledge, resolve: the alerts extension's routes), which no
 * other role may.
 */
export const ROLES = ['reader', 'auditor', 'responder'] as const;
export type Role = (typeof ROLES)[number];

/** The read rules a role's queries are admitted under: a responder reads as a reader. */
export function admissionRole(role: Role): 'reader' | 'auditor' {
  return role === 'auditor' ? 'auditor' : 'reader';
}

export interface QueryUserConfig {
  /** bcrypt hash (`$2a$`/`$2b$`/`$2y$`), as `trailhouse hash-password` prints it. */
  password_bcrypt_hash: string | null;
  /** ClickHouse's users.xml convention: hex SHA-256 of the password. */
  password_sha256_hex: string | null;
  role: Role;
  /** Refused with how to hash it: plain-text passwords are not kept in config. */
  password?: unknown;
}

export const queryUserSchema: Schema = s.object({
  password_bcrypt_hash: s.optional(s.string({ nonEmpty: true })),
  password_sha256_hex: s.optional(s.string({ nonEmpty: true })),
  role: s.string({ enum: ROLES }),
  password: s.any(),
});

/** Names as ClickHouse users are usually spelled; anything else (a password typed as the user?) is never logged. */
export const USER_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.@-]{0,63}$/;
const BCRYPT = /^\$2[aby]\$(\d\d)\$[./A-Za-z0-9]{53}$/;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

export const HASH_HOWTO =
  'write a hash instead: `printf %s "$PASSWORD" | npx trailhouse hash-password` prints a password_bcrypt_hash, or `printf %s "$PASSWORD" | sha256sum` gives a password_sha256_hex';

export function validateQueryUsers(users: Record<string, QueryUserConfig> | null, path: string): ConfigError[] {
  const errors: ConfigError[] = [];
  for (const [name, u] of Object.entries(users ?? {})) {
    const p = `${path}.${name}`;
    if (!USER_NAME.test(name)) errors.push({ path: p, message: 'a user name is 1-64 letters, digits, _ . @ - (starting with a letter, digit or _)' });
    if (!u.role) errors.push({ path: `${p}.role`, message: `required: one of ${ROLES.join(', ')}` });
    if (u.password !== undefined) errors.push({ path: `${p}.password`, message: `plain-text passwords are not accepted: ${HASH_HOWTO}` });
    const kinds = [u.password_bcrypt_hash, u.password_sha256_hex].filter((h) => h !== null && h !== undefined).length;
    if (kinds !== 1) errors.push({ path: p, message: `give exactly one of password_bcrypt_hash, password_sha256_hex (${HASH_HOWTO})` });
    if (u.password_bcrypt_hash && !BCRYPT.test(u.password_bcrypt_hash)) {
      errors.push({ path: `${p}.password_bcrypt_hash`, message: 'expected a bcrypt hash like $2b$10$ followed by 53 characters' });
    } else if (u.password_bcrypt_hash) {
      const cost = Number(BCRYPT.exec(u.password_bcrypt_hash)![1]);
      if (cost < 8 || cost > 14) errors.push({ path: `${p}.password_bcrypt_hash`, message: `cost ${cost} is outside 8..14 (too weak, or too slow to serve queries)` });
    }
    if (u.password_sha256_hex && !SHA256_HEX.test(u.password_sha256_hex)) {
      errors.push({ path: `${p}.password_sha256_hex`, message: 'expected 64 hex digits (the SHA-256 of the password)' });
    }
  }
  return errors;
}

interface User {
  role: Role;
  bcrypt: string | null;
  sha256: Buffer | null;
}

const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest();

export interface VerifyOptions {
  /** How long a successful bcrypt verification is remembered. Default 5 minutes. */
  cacheTtlMs?: number;
  /** Most remembered verifications. Default 1024. */
  cacheMax?: number;
  /** The bcrypt comparison (bcrypt-worker.ts: off the event loop); null = too many waiting. Default bcryptjs on this thread. */
  compare?: Compare;
}

/** Too many bcrypt comparisons are waiting: answer 503, try later. */
export const BUSY = 'busy';

export class UserDirectory {
  private readonly users = new Map<string, User>();
  /** A hash of the highest configured cost: what an unknown user (or a fast-hash user's wrong password) also pays. */
  private readonly dummy: string | null;
  private readonly dummySha = sha256(randomBytes(16).toString('hex'));
  private readonly cacheKey = randomBytes(32);
  private readonly cache = new Map<string, number>();
  private readonly ttl: number;
  private readonly cacheMax: number;
  private readonly compare: Compare;

  constructor(config: Record<string, QueryUserConfig>, o: VerifyOptions = {}) {
    let cost = 0;
    // Object.entries: own keys only; lookups go through a Map, so a claimed
    // user named `constructor` or `__proto__` finds nothing.
    for (const [name, u] of Object.entries(config)) {
      this.users.set(name, { role: u.role, bcrypt: u.password_bcrypt_hash ?? null, sha256: u.password_sha256_hex ? Buffer.from(u.password_sha256_hex, 'hex') : null });
      if (u.password_bcrypt_hash) cost = Math.max(cost, bcrypt.getRounds(u.password_bcrypt_hash));
    }
    this.dummy = cost ? bcrypt.hashSync(randomBytes(16).toString('hex'), cost) : null;
    this.ttl = o.cacheTtlMs ?? 5 * 60_000;
    this.cacheMax = o.cacheMax ?? 1024;
    this.compare = o.compare ?? ((p, h) => bcrypt.compare(p, h));
  }

  get size(): number {
    return this.users.size;
  }

  /** The user's role when `password` is theirs; null otherwise (after the same work either way); BUSY when bcrypt is saturated. */
  async verify(user: string, password: string): Promise<Role | null | typeof BUSY> {
    const u = this.users.get(user);
    // Length-prefixed: no (user, password) pair can spell another's key.
    const key = createHmac('sha256', this.cacheKey).update(`${user.length}:${user}`).update(password).digest('base64');
    const until = this.cache.get(key);
    if (u && until !== undefined) {
      if (until > Date.now()) return u.role;
      this.cache.delete(key);
    }
    let ok: boolean | null;
    if (u?.bcrypt) {
      // bcrypt reads 72 bytes: a longer password would match on its prefix.
      ok = Buffer.byteLength(password) <= 72 ? await this.compare(password, u.bcrypt) : (await this.dummyWork(password)) && false;
    } else {
      ok = timingSafeEqual(sha256(password), u?.sha256 ?? this.dummySha) && !!u;
      if (!ok) ok = (await this.dummyWork(password)) && false;
    }
    if (ok === null) return BUSY;
    if (!ok || !u) return null;
    if (u.bcrypt) this.remember(key);
    return u.role;
  }

  /** One bcrypt against the dummy hash; null when saturated (so the caller answers BUSY, as for a real user). */
  private async dummyWork(password: string): Promise<boolean | null> {
    if (!this.dummy) return false;
    const r = this.compare(password, this.dummy);
    return r === null ? null : (await r, false);
  }

  private remember(key: string): void {
    if (this.cache.size >= this.cacheMax) {
      const now = Date.now();
      for (const [k, t] of this.cache) if (t <= now) this.cache.delete(k);
      // Still full: drop the oldest (Map order is insertion order).
      while (this.cache.size >= this.cacheMax) this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(key, Date.now() + this.ttl);
  }
}
