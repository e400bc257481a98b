/**
 * deny_surge and auth_failure_burst: events per key in a sliding window
 * (`buckets` sub-windows), alerting when the window's count reaches both
 * `min_count` and `ratio` × the key's baseline (an EWMA of the window's count
 * sampled at every sub-window boundary). A key alerts at most once a window; the
 * alerts side turns the repeats into counts on one open alert.
 *
 * deny_surge counts authorization denials (not dry-run ones) per principal
 * and per destination; auth_failure_burst counts authentication failures
 * (TLS verification and handshake failures, plaintext to a STRICT port, a
 * missing required peer identity, 401 and JWT failures) per source (the
 * caller's address, else its principal) and per destination.
 */
import type { AuditRow } from '../../lib/audit/schema.ts';
import type { DetectorName } from '../../lib/detect/signal.ts';
import type { SurgeConfig } from './config.ts';
import { durationText, Evidence, hostOf, timeOf, type DetectContext, type Detector } from './detector.ts';
import { Keyed } from './keyed.ts';

interface Win {
  /** The current sub-window (epoch ms / bucket length). */
  b: number;
  /** Counts of the last `buckets` sub-windows, by index modulo buckets. */
  c: number[];
  /** Baseline: EWMA of the window's count, sampled at each sub-window boundary. */
  e: number;
  /** When this key last alerted (ms; 0 = never). */
  a: number;
  ev: Evidence | undefined;
}

export class SurgeDetector implements Detector {
  private readonly state: Keyed<Win>;
  private readonly bucketMs: number;

  constructor(
    readonly name: Extract<DetectorName, 'deny_surge' | 'auth_failure_burst'>,
    private readonly cfg: SurgeConfig,
    private readonly ctx: DetectContext,
  ) {
    this.state = new Keyed<Win>(cfg.max_keys, () => ctx.evicted(name));
    this.bucketMs = Math.max(1, Math.floor(cfg.window / cfg.buckets));
  }

  get size(): number {
    return this.state.size;
  }

  observe(row: AuditRow): void {
    const e = row.event;
    if (this.name === 'deny_surge') {
      if (e.category !== 'authorization' || e.outcome !== 'denied' || e.details.shadow === 'true') return;
      if (e.principal) this.count('principal', e.principal, row);
    } else {
      if (e.category !== 'authentication' || e.outcome !== 'failure') return;
      const source = e.source ? hostOf(e.source) : e.principal;
      if (source) this.count('source', source, row);
    }
    if (e.destination) this.count('destination', e.destination, row);
  }

  private count(dimension: string, value: string, row: AuditRow): void {
    const key = `${dimension}|${value}`;
    const now = this.ctx.now();
    const n = this.cfg.buckets;
    const bucket = Math.floor(now / this.bucketMs);
    let w = this.state.touch(key);
    if (w === undefined) {
      w = { b: bucket, c: new Array<number>(n).fill(0), e: 0, a: 0, ev: undefined };
      this.state.set(key, w);
    } else {
      this.roll(w, bucket);
      this.state.dirty(key);
    }
    w.c[bucket % n]!++;
    if (this.ctx.learning()) return;
    let count = 0;
    for (const x of w.c) count += x;
    const baseline = w.e;
    const threshold = Math.max(this.cfg.min_count, this.cfg.ratio * baseline);
    // Evidence is kept once a key is half way to its threshold: most keys never are, and hold none.
    if (2 * count >= threshold) (w.ev ??= new Evidence()).add(row);
    if (count < threshold || (w.a !== 0 && now - w.a < this.cfg.window)) return;
    w.a = now;
    const e = row.event;
    const what = this.name === 'deny_surge' ? 'authorization denials' : 'authentication failures';
    const window = durationText(this.cfg.window);
    this.ctx.raised(this.name);
    this.ctx.sink.raise({
      detector: this.name,
      severity: this.cfg.severity,
      key: `${this.name}|${key}`,
      time: timeOf(row),
      principal: dimension === 'principal' ? value : '',
      source: dimension === 'source' ? value : '',
      destination: dimension === 'destination' ? value : '',
      resource: '',
      reason: `${count} ${what} for ${dimension} ${value} in ${window} (baseline ${baseline.toFixed(1)} per ${window}, threshold ${Math.ceil(threshold)}: min_count ${this.cfg.min_count}, ratio ${this.cfg.ratio})`,
      count,
      evidence: w.ev!.take(),
      details: { dimension, window, baseline: baseline.toFixed(2), threshold: String(Math.ceil(threshold)), ratio: String(this.cfg.ratio), last_action: e.action },
    });
  }

  /**
   * Moves `w` to sub-window `bucket`. At each sub-window boundary passed the
   * window's count (the last `buckets` sub-windows) feeds the baseline: a
   * steady rate gives a steady sample whatever its phase. Past a whole window
   * of silence the samples are 0: the baseline decays in one step.
   */
  private roll(w: Win, bucket: number): void {
    if (bucket <= w.b) return;
    const n = this.cfg.buckets;
    const alpha = this.cfg.alpha;
    let sum = 0;
    for (const x of w.c) sum += x;
    let steps = bucket - w.b;
    let b = w.b;
    while (steps > 0 && sum > 0) {
      w.e = alpha * sum + (1 - alpha) * w.e;
      b++;
      steps--;
      const slot = b % n;
      sum -= w.c[slot]!;
      w.c[slot] = 0;
    }
    if (steps > 0) {
      w.e *= Math.pow(1 - alpha, steps);
      w.c.fill(0);
      w.ev = undefined;
    }
    w.b = bucket;
  }

  tick(): void {}

  takeDirty(): Array<[string, string]> {
    return this.state.takeDirty().map(([k, w]) => [k, JSON.stringify({ b: w.b, c: w.c, e: w.e, a: w.a })]);
  }

  load(key: string, value: string): void {
    let v: { b?: unknown; c?: unknown; e?: unknown; a?: unknown };
    try {
      v = JSON.parse(value) as typeof v;
    } catch {
      return;
    }
    const n = this.cfg.buckets;
    if (typeof v.b !== 'number' || typeof v.e !== 'number' || typeof v.a !== 'number' || !Array.isArray(v.c) || v.c.length !== n || !v.c.every((x) => typeof x === 'number')) return;
    const got: Win = { b: v.b, c: v.c as number[], e: v.e, a: v.a, ev: undefined };
    const had = this.state.peek(key);
    if (had) {
      // Another ingester's view of the same key: the larger baseline, the later alert, counts of the later sub-window.
      got.e = Math.max(got.e, had.e);
      got.a = Math.max(got.a, had.a);
      if (had.b >= got.b) {
        got.c = had.c;
        got.b = had.b;
      }
      got.ev = had.ev;
    }
    this.state.load(key, got);
  }
}
