/**
 * Failed-login throttling per source: after `max_failures` refused logins
 * from one source within `window`, that source gets 429 with Retry-After for
 * `block_duration`, whatever it sends (so guessing stops, even with a right
 * password); every other source is unaffected. A successful login does not
 * clear the source's count (it clears with its window): otherwise whoever
 * holds one account could guess another's password without limit, a valid
 * login between every few guesses.
 *
 * A source is the client's IP; IPv6 addresses count per /64 (one host is
 * usually given a whole /64, so counting per address would let it rotate).
 * Memory is bounded: at most `max_sources` tracked sources; when full, expired
 * entries go first, then the oldest-updated ones (a blocked source is touched
 * on every refused attempt, so it stays).
 */
import net from 'node:net';
import { s, type Schema } from '../../../core/config/schema.ts';

export interface LoginThrottleConfig {
  /** Failures within `window` that block a source. Default 5; 0 turns throttling off. */
  max_failures: number;
  /** ms. Default 60s. */
  window: number;
  /** ms a blocked source is refused. Default 5m. */
  block_duration: number;
  /** Sources tracked at most. Default 10000. */
  max_sources: number;
}

export const loginThrottleDefaults = (): LoginThrottleConfig => ({ max_failures: 5, window: 60_000, block_duration: 300_000, max_sources: 10_000 });

export const loginThrottleSchema: Schema = s.object({
  max_failures: s.int({ min: 0 }),
  window: s.duration(),
  block_duration: s.duration(),
  max_sources: s.int({ min: 1 }),
});

interface Entry {
  failures: number;
  windowStart: number;
  blockedUntil: number;
}

/** The key of a client address: the IP, or an IPv6 address's /64. */
export function sourceKey(address: string | undefined): string {
  let a = address ?? '';
  if (a.startsWith('::ffff:') && net.isIPv4(a.slice(7))) a = a.slice(7);
  if (!net.isIPv6(a)) return a;
  // Expand to 8 groups and keep the first 4.
  const [head, tail = ''] = a.split('::') as [string, string?];
  const h = head ? head.split(':') : [];
  const t = a.includes('::') && tail ? tail.split(':') : [];
  const groups = a.includes('::') ? [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t] : h;
  return groups.slice(0, 4).map((g) => g.toLowerCase().replace(/^0+(?=.)/, '')).join(':') + '::/64';
}

export class LoginThrottle {
  private readonly entries = new Map<string, Entry>();

  constructor(private readonly c: LoginThrottleConfig, private readonly now: () => number = Date.now) {}

  /** Seconds until `source` may try again, or 0 when it may now. */
  blockedFor(source: string): number {
    const e = this.entries.get(source);
    if (!e) return 0;
    const left = e.blockedUntil - this.now();
    return left > 0 ? Math.ceil(left / 1000) : 0;
  }

  /** Records a refused login; returns true when this failure starts a block. */
  fail(source: string): boolean {
    if (this.c.max_failures === 0) return false;
    const now = this.now();
    let e = this.entries.get(source);
    if (e) this.entries.delete(source); // re-inserted below: Map order = last update
    else {
      this.makeRoom(now);
      e = { failures: 0, windowStart: now, blockedUntil: 0 };
    }
    if (now - e.windowStart > this.c.window) {
      e.failures = 0;
      e.windowStart = now;
    }
    e.failures++;
    let started = false;
    if (e.failures >= this.c.max_failures && e.blockedUntil <= now) {
      e.blockedUntil = now + this.c.block_duration;
      started = true;
    }
    this.entries.set(source, e);
    return started;
  }

  /**
   * A successful login changes nothing: failures count until their window
   * ends, whoever logs in meanwhile (see above). Kept so callers can say
   * where a login succeeded.
   */
  succeed(_source: string): void {}

  get size(): number {
    return this.entries.size;
  }

  private makeRoom(now: number): void {
    if (this.entries.size < this.c.max_sources) return;
    for (const [k, e] of this.entries) {
      if (e.blockedUntil <= now && now - e.windowStart > this.c.window) this.entries.delete(k);
    }
    while (this.entries.size >= this.c.max_sources) this.entries.delete(this.entries.keys().next().value!);
  }
}
