/**
 * Detector 6a, `receiver_auth_bruteforce`: refused authentications against
 * the pipeline itself (a receiver's authenticator, the query interface's
 * logins and client certificates), from one source on one surface, at least
 * `min_failures` within `window`. It observes the process's SecurityEvents
 * (core/security-events.ts) as they are raised.
 *
 * Per (surface, source) it keeps the times of the last `min_failures`
 * failures: the threshold is crossed when the oldest of them is within the
 * window of the newest. Crossing raises one signal with that many failures;
 * further failures from the same source are added up and raised as one
 * repeat every `tick` (5 s), so a flood costs a counter increment per
 * failure, not an alert version. Sources are keyed by address without the
 * port (an IPv6 address by its /64, as the login throttle does). A
 * `rate_limited` event (the query interface's login throttle blocking the
 * source) raises at once: no more failures arrive from a blocked source. At most
 * `max_sources` are tracked, the least recently failing let go.
 */
import { watchSecurityEvents, type SecurityEvent } from '../../core/security-events.ts';
import { sourceKey } from '../clickhouse/query/login-throttle.ts';
import type { AlertSink } from '../detect/signal.ts';
import type { BruteforceConfig } from './options.ts';

interface SourceState {
  surface: string;
  source: string;
  /** Times (ms) of the last min_failures failures, a ring. */
  times: number[];
  next: number;
  /** Failures not raised yet, since crossing. */
  pending: number;
  crossed: boolean;
  lastMs: number;
  subjects: Set<string>;
  lastReason: string;
  lastTime: bigint;
}

/** The address of `ip`, `ip:port`, `[v6]:port` without its port. */
export function addressOf(source: string): string {
  const bracket = /^\[([^\]]+)\](?::\d+)?$/.exec(source);
  if (bracket) return bracket[1]!;
  const v4port = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(source);
  if (v4port) return v4port[1]!;
  return source;
}

export class BruteforceDetector {
  private readonly sources = new Map<string, SourceState>();
  private unsubscribe: (() => void) | undefined;
  private timer: NodeJS.Timeout | undefined;
  /** Let go to stay within max_sources. */
  evicted = 0;

  constructor(
    private readonly c: BruteforceConfig,
    private readonly sink: AlertSink,
    private readonly now: () => number = Date.now,
  ) {}

  static subscribe(c: BruteforceConfig, sink: AlertSink, tickMs = 5000): BruteforceDetector {
    const d = new BruteforceDetector(c, sink);
    d.unsubscribe = watchSecurityEvents((e) => d.observe(e));
    d.timer = setInterval(() => d.tick(), tickMs);
    d.timer.unref();
    return d;
  }

  get tracked(): number {
    return this.sources.size;
  }

  observe(e: SecurityEvent): void {
    if (e.category !== 'authentication' || (e.outcome !== 'failure' && e.outcome !== 'rate_limited')) return;
    const source = sourceKey(addressOf(e.source));
    const key = `${e.surface}|${source}`;
    const now = this.now();
    let st = this.sources.get(key);
    if (st) this.sources.delete(key);
    else st = { surface: e.surface, source, times: [], next: 0, pending: 0, crossed: false, lastMs: 0, subjects: new Set(), lastReason: '', lastTime: 0n };
    this.sources.set(key, st);
    while (this.sources.size > this.c.max_sources) {
      this.sources.delete(this.sources.keys().next().value as string);
      this.evicted++;
    }
    st.lastMs = now;
    st.lastTime = e.time;
    st.lastReason = e.reason;
    if (e.subject && st.subjects.size < 5) st.subjects.add(e.subject);
    if (e.outcome === 'rate_limited') {
      // The surface's own throttle blocked the source (the query interface
      // after 5 failures a minute, by default): its failures stop arriving,
      // so the block itself is the signal, whatever min_failures says.
      if (!st.crossed) {
        st.crossed = true;
        this.raise(st, Math.max(1, st.times.length), true, `${st.times.length} refused authentications from ${st.source} on ${st.surface}, then blocked by its login throttle (${e.reason})`);
      }
      return;
    }
    if (st.crossed) {
      st.pending++;
      return;
    }
    const n = this.c.min_failures;
    if (st.times.length < n) st.times.push(now);
    else st.times[st.next] = now;
    st.next = (st.next + 1) % n;
    if (st.times.length < n) return;
    const oldest = st.times[st.next % n]!;
    if (now - oldest > this.c.window) return;
    st.crossed = true;
    this.raise(st, n, true);
  }

  /** Raises what added up since the last tick; forgets sources quiet for a window. */
  tick(): void {
    const now = this.now();
    for (const [k, st] of this.sources) {
      if (st.pending > 0) {
        this.raise(st, st.pending, false);
        st.pending = 0;
      } else if (now - st.lastMs > this.c.window) {
        this.sources.delete(k);
      }
    }
  }

  private raise(st: SourceState, count: number, crossing: boolean, reason?: string): void {
    const windowS = Math.round(this.c.window / 1000);
    this.sink.raise({
      detector: 'receiver_auth_bruteforce',
      severity: this.c.severity,
      key: `receiver_auth_bruteforce|${st.surface}|${st.source}`,
      time: st.lastTime,
      principal: st.subjects.size === 1 ? [...st.subjects][0]! : '',
      source: st.source,
      destination: st.surface,
      resource: '',
      reason: reason
        ? reason
        : crossing
        ? `${count} refused authentications from ${st.source} on ${st.surface} within ${windowS}s (threshold ${this.c.min_failures}); last: ${st.lastReason}`
        : `${count} more refused authentications from ${st.source} on ${st.surface}; last: ${st.lastReason}`,
      count,
      evidence: { eventIds: [], traceIds: [] },
      details: { surface: st.surface, window_s: String(windowS), threshold: String(this.c.min_failures), claimed_users: [...st.subjects].join(',') },
    });
  }

  close(): void {
    this.unsubscribe?.();
    clearInterval(this.timer);
  }
}
