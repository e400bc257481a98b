/**
 * The basicauth extension, server side: `Authorization: Basic
 * base64(user:password)` checked against bcrypt htpasswd entries, read at
 * start (file, then inline overriding it, as the Collector does).
 *
 * bcrypt costs ~50-100 ms of CPU by design, and a sender repeats the same
 * credential on every request, so verifications are remembered:
 * - a success as HMAC-SHA256(process key, password) per user: the next
 *   request with that password costs one HMAC and a constant-time compare;
 * - a failure as HMAC(process key, user NUL password): a sender stuck on a
 *   wrong password costs one HMAC per request, not one bcrypt.
 * The key is random per process and never leaves memory, so the caches hold
 * nothing that could be tested offline. Both are bounded (oldest dropped).
 * New credentials go through at most BCRYPT_CONCURRENCY bcrypt verifications
 * at once, BCRYPT_QUEUE more waiting; beyond that the request is refused as
 * `busy` (503 / UNAVAILABLE + retry), so a spray of guesses cannot occupy
 * the event loop. An unknown user costs a bcrypt too (against a dummy hash),
 * so timing does not tell which user names exist.
 */
import bcrypt from 'bcryptjs';
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { isUtf8 } from 'node:buffer';
import type { Component, CreateSettings } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { AuthFailure, type AuthSuccess, type Credentials, type ServerAuthenticator } from '../../core/auth.ts';
import { formatErrors, type ConfigError } from '../../core/config/schema.ts';
import { parseHtpasswd, type BasicAuthConfig } from './config.ts';

export const BCRYPT_CONCURRENCY = 2;
export const BCRYPT_QUEUE = 256;
const CACHE_MAX = 10_000;
// A valid bcrypt hash of a random password: what an unknown user is checked against (made on first use).
let dummyHash: string | undefined;
const dummy = () => (dummyHash ??= bcrypt.hashSync(randomBytes(16).toString('hex'), 10));
const B64 = /^[A-Za-z0-9+/]*={0,2}$/;

export class BasicAuthExtension implements Component, ServerAuthenticator {
  readonly credentialHeader = 'authorization';
  readonly challenge = 'Basic realm="trailhouse", charset="UTF-8"';
  private users = new Map<string, string>();
  private readonly key = randomBytes(32);
  private readonly good = new Map<string, Buffer>();
  private readonly bad = new Set<string>();
  private running = 0;
  private readonly waiting: Array<() => void> = [];
  /** bcrypt verifications run (for tests: the cache works when this stays put). */
  verifications = 0;

  constructor(private readonly settings: CreateSettings<BasicAuthConfig>) {}

  async start(): Promise<void> {
    const h = this.settings.config.htpasswd!;
    const errors: ConfigError[] = [];
    const users = new Map<string, string>();
    if (h.file) {
      let text: string;
      try {
        text = await readFile(h.file, 'utf8');
      } catch (err) {
        throw new Error(`htpasswd.file: cannot read ${h.file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
      }
      parseHtpasswd(text, `htpasswd.file ${h.file}`, users, errors);
    }
    if (h.inline) parseHtpasswd(h.inline, 'htpasswd.inline', users, errors);
    if (errors.length) throw new Error(formatErrors(errors));
    if (users.size === 0) this.settings.logger.warn('htpasswd holds no user: every request will be refused');
    this.users = users;
  }

  private mac(...parts: string[]): Buffer {
    const h = createHmac('sha256', this.key);
    // Length-prefixed, so (user, password) pairs cannot collide across the boundary.
    for (const p of parts) h.update(`${Buffer.byteLength(p)}:`).update(p, 'utf8');
    return h.digest();
  }

  private async bcryptCompare(password: string, hash: string): Promise<boolean> {
    if (this.running >= BCRYPT_CONCURRENCY) {
      if (this.waiting.length >= BCRYPT_QUEUE) throw new AuthFailure('busy', 'too many credentials being verified; retry shortly');
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    this.running++;
    try {
      this.verifications++;
      return await bcrypt.compare(password, hash);
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }

  async authenticate(creds: Credentials): Promise<AuthSuccess> {
    const values = creds.get('authorization');
    if (values.length === 0) throw new AuthFailure('missing', 'no Authorization header');
    if (values.length > 1) throw new AuthFailure('malformed', 'more than one Authorization header');
    const m = /^basic +(\S+)$/i.exec(values[0]!);
    if (!m || m[1]!.length % 4 !== 0 || !B64.test(m[1]!)) throw new AuthFailure('malformed', 'expected "Basic <base64 of user:password>"');
    const decoded = Buffer.from(m[1]!, 'base64');
    if (!isUtf8(decoded)) throw new AuthFailure('malformed', 'Basic credentials are not UTF-8');
    const text = decoded.toString('utf8');
    const colon = text.indexOf(':');
    if (colon < 0) throw new AuthFailure('malformed', 'Basic credentials without a colon between user and password');
    const user = text.slice(0, colon);
    const password = text.slice(colon + 1);
    const hash = this.users.get(user);

    const remembered = hash !== undefined ? this.good.get(user) : undefined;
    if (remembered && timingSafeEqual(remembered, this.mac(password))) return this.ok(user);
    const badKey = this.mac(user, password).toString('base64');
    if (this.bad.has(badKey)) throw new AuthFailure('invalid', 'wrong user name or password', user);

    const valid = await this.bcryptCompare(password, hash ?? dummy());
    if (hash !== undefined && valid) {
      remember(this.good, user, this.mac(password));
      return this.ok(user);
    }
    remember(this.bad, badKey);
    throw new AuthFailure('invalid', 'wrong user name or password', user);
  }

  private ok(user: string): AuthSuccess {
    return { subject: user, attributes: new Map([['username', user]]) };
  }

  readonly shutdown = once(async () => {
    this.good.clear();
    this.bad.clear();
  });
}

function remember(cache: Map<string, Buffer> | Set<string>, key: string, value?: Buffer): void {
  if (cache.size >= CACHE_MAX) cache.delete(cache.keys().next().value!);
  if (cache instanceof Map) cache.set(key, value!);
  else cache.add(key);
}
