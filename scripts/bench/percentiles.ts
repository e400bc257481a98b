/** p50/p90/p99/max of latencies in milliseconds (nearest rank), rounded to 0.1 ms. */
export function percentiles(ms: readonly number[]): { p50: number; p90: number; p99: number; max: number } {
  const s = [...ms].sort((a, b) => a - b);
  const at = (q: number) => (s.length === 0 ? 0 : s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)]!);
  const r = (x: number) => Math.round(x * 10) / 10;
  return { p50: r(at(0.5)), p90: r(at(0.9)), p99: r(at(0.99)), max: r(s[s.length - 1] ?? 0) };
}

/** The middle value (the upper one of an even count); 0 for none. */
export function median(xs: readonly number[]): number {
  return [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
}
