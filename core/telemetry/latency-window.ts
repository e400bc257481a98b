/**
 * Durations since the metrics were last read, kept as counts in log-spaced
 * buckets (each 10 % wider than the last, 10 µs to ~2 min): recording is an
 * increment, memory is fixed whatever the rate, and a quantile is read as
 * its bucket's upper edge, at most 10 % above the true value.
 */
const MIN_SECONDS = 1e-5;
const GROWTH = 1.1;
const BUCKETS = 172; // 1e-5 × 1.1^171 ≈ 118 s; longer ones land in the last

const LOG_GROWTH = Math.log(GROWTH);

export class LatencyWindow {
  private readonly counts = new Uint32Array(BUCKETS);
  private n = 0;
  private longest = 0;

  record(seconds: number): void {
    if (!(seconds >= 0)) return; // NaN or negative: a clock step, not a duration
    const i = seconds <= MIN_SECONDS ? 0 : Math.min(BUCKETS - 1, Math.ceil(Math.log(seconds / MIN_SECONDS) / LOG_GROWTH));
    this.counts[i]!++;
    this.n++;
    if (seconds > this.longest) this.longest = seconds;
  }

  get count(): number {
    return this.n;
  }

  /** The `q` quantile (0–1) of what was recorded, as its bucket's upper edge (the exact longest for 1); 0 when nothing was. */
  quantile(q: number): number {
    if (this.n === 0) return 0;
    if (q >= 1) return this.longest;
    const rank = Math.max(1, Math.ceil(q * this.n));
    let seen = 0;
    for (let i = 0; i < BUCKETS; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(this.longest, MIN_SECONDS * GROWTH ** i);
    }
    return this.longest;
  }

  reset(): void {
    this.counts.fill(0);
    this.n = 0;
    this.longest = 0;
  }
}
