/**
 * Durations over the last minute (a sliding window), kept as counts in
 * log-spaced buckets (each 10 % wider than the last, 10 µs to ~2 min):
 * recording is an increment, memory is fixed whatever the rate, and a
 * quantile is read as its bucket's upper edge, at most 10 % above the true
 * value.
 *
 * Reading never resets anything: every reader (two Prometheus servers of an
 * HA pair, `pipeline_stats`, an OTLP metrics reader, someone with curl) sees
 * the same window. The window is six slots of a sixth of its length each; a
 * duration lands in the slot of the time it was recorded, and a read covers
 * the current slot and the five before it, so a reading spans between five
 * and six sixths of the window back. The length is 60 s, or
 * TRAILHOUSE_METRICS_WINDOW (a duration from 100ms to 1h, e.g. `250ms` for
 * a benchmark that reads every quarter second).
 */
import { parseDuration } from '../config/schema.ts';

const MIN_SECONDS = 1e-5;
const GROWTH = 1.1;
const BUCKETS = 172; // 1e-5 × 1.1^171 ≈ 118 s; longer ones land in the last
const SLOTS = 6;

const LOG_GROWTH = Math.log(GROWTH);

export const DEFAULT_WINDOW_MS = 60_000;

/**
 * Bounds of the window: a slot begins a sixth of it apart and the event
 * loop's delay is moved into it by a timer at that period, so a window far
 * shorter would wake the thread for nothing, and one past an hour would ask
 * for a timer beyond what Node's timers hold.
 */
export const MIN_WINDOW_MS = 100;
export const MAX_WINDOW_MS = 3_600_000;

/** The window's length: TRAILHOUSE_METRICS_WINDOW when set (a duration from 100ms to 1h), else 60 s. */
export function metricsWindowMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.TRAILHOUSE_METRICS_WINDOW;
  if (v === undefined || v === '') return DEFAULT_WINDOW_MS;
  const ms = parseDuration(v);
  if (ms === undefined || !(ms >= MIN_WINDOW_MS && ms <= MAX_WINDOW_MS)) {
    throw new Error(`TRAILHOUSE_METRICS_WINDOW: ${JSON.stringify(v.slice(0, 40))} is not a duration from 100ms to 1h (e.g. 60s, 250ms)`);
  }
  return ms;
}

interface Slot {
  /** Which slot-length interval of time it holds (-1: none yet). */
  epoch: number;
  counts: Uint32Array;
  n: number;
  longest: number;
}

export interface WindowOptions {
  /** The window's length (ms). Default metricsWindowMs(). */
  windowMs?: number;
  /** The clock (ms). Default performance.now. */
  now?: () => number;
}

export class LatencyWindow {
  private readonly slotMs: number;
  private readonly now: () => number;
  private readonly slots: Slot[] = [];

  constructor(o: WindowOptions = {}) {
    this.slotMs = (o.windowMs ?? metricsWindowMs()) / SLOTS;
    this.now = o.now ?? (() => performance.now());
    for (let i = 0; i < SLOTS; i++) this.slots.push({ epoch: -1, counts: new Uint32Array(BUCKETS), n: 0, longest: 0 });
  }

  /** How long a slot is (ms): a sixth of the window, how often a new one begins. */
  get slotLengthMs(): number {
    return this.slotMs;
  }

  /** The window's length (ms). */
  get windowMs(): number {
    return this.slotMs * SLOTS;
  }

  record(seconds: number): void {
    this.recordMany(seconds, 1);
  }

  /** `n` durations of `seconds` each. */
  recordMany(seconds: number, n: number): void {
    if (!(seconds >= 0) || !(n >= 1)) return; // NaN or negative: a clock step, not a duration
    const i = seconds <= MIN_SECONDS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(seconds / MIN_SECONDS) / LOG_GROWTH));
    const epoch = Math.floor(this.now() / this.slotMs);
    const s = this.slots[epoch % SLOTS]!;
    if (s.epoch !== epoch) {
      s.epoch = epoch;
      s.counts.fill(0);
      s.n = 0;
      s.longest = 0;
    }
    s.counts[i]! += n;
    s.n += n;
    if (seconds > s.longest) s.longest = seconds;
  }

  /** The slots inside the window now. */
  private live(): Slot[] {
    const epoch = Math.floor(this.now() / this.slotMs);
    return this.slots.filter((s) => s.n > 0 && s.epoch > epoch - SLOTS && s.epoch <= epoch);
  }

  /** Durations recorded within the window. */
  get count(): number {
    let n = 0;
    for (const s of this.live()) n += s.n;
    return n;
  }

  /** The `q` quantile (0–1) of the window's durations, as its bucket's upper edge (the exact longest for 1); 0 when there were none. */
  quantile(q: number): number {
    const live = this.live();
    let n = 0;
    let longest = 0;
    for (const s of live) {
      n += s.n;
      if (s.longest > longest) longest = s.longest;
    }
    if (n === 0) return 0;
    if (q >= 1) return longest;
    const rank = Math.max(1, Math.ceil(q * n));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      for (const s of live) seen += s.counts[i]!;
      if (seen >= rank) return Math.min(longest, MIN_SECONDS * GROWTH ** i);
    }
    return longest;
  }
}
