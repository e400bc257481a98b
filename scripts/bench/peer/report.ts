/** bench:peer's tables: per signal, each round's pair, the medians, ratios and targets. */
import type { RunResult } from './measure.ts';

export const TARGETS = { ratio: 1.0, rss: 1.5 };

export interface Pair {
  round: number;
  order: string;
  collector: RunResult;
  trailhouse: RunResult;
}

export function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const pad = (s: string | number, n: number): string => String(s).padStart(n);
const r2 = (x: number): string => x.toFixed(2);

export function summary(pairs: readonly Pair[]): Record<string, unknown> {
  const ratios = pairs.map((p) => p.trailhouse.per_cpu_second / p.collector.per_cpu_second);
  const side = (k: 'collector' | 'trailhouse') => ({
    per_cpu_second: Math.round(median(pairs.map((p) => p[k].per_cpu_second))),
    ack_p50_ms: +median(pairs.map((p) => p[k].ack_ms.p50)).toFixed(2),
    ack_p99_ms: +median(pairs.map((p) => p[k].ack_ms.p99)).toFixed(2),
    peak_rss_mib: median(pairs.map((p) => p[k].peak_rss_mib)),
  });
  const c = side('collector');
  const t = side('trailhouse');
  return {
    collector: c, trailhouse: t,
    ratio_per_round: ratios.map((x) => +x.toFixed(3)),
    ratio_median: +median(ratios).toFixed(3),
    rss_ratio: +(t.peak_rss_mib / c.peak_rss_mib).toFixed(2),
  };
}

export function table(signal: string, pairs: readonly Pair[]): string {
  const s = summary(pairs) as { collector: Record<string, number>; trailhouse: Record<string, number>; rss_ratio: number };
  // From the unrounded ratios, so the median line agrees with the rounds above it.
  const ratioMedian = median(pairs.map((p) => p.trailhouse.per_cpu_second / p.collector.per_cpu_second));
  const lines = [
    `${signal}: records per CPU-second of the gateway process (higher is better)`,
    ` round  order                  collector  trailhouse  ratio th/col   records  msgs col/th   refusals col/th`,
  ];
  for (const p of pairs) {
    lines.push(` ${pad(p.round, 5)}  ${p.order.padEnd(21)} ${pad(p.collector.per_cpu_second, 10)} ${pad(p.trailhouse.per_cpu_second, 11)} ${pad(r2(p.trailhouse.per_cpu_second / p.collector.per_cpu_second), 13)} ${pad(p.collector.accepted, 9)} ${pad(`${p.collector.messages}/${p.trailhouse.messages}`, 12)} ${pad(`${p.collector.refusals}/${p.trailhouse.refusals}`, 17)}`);
  }
  const ok = (b: boolean): string => (b ? 'met' : 'NOT MET');
  lines.push(
    ` median                       ${pad(s.collector.per_cpu_second!, 10)} ${pad(s.trailhouse.per_cpu_second!, 11)} ${pad(r2(ratioMedian), 13)}   target ≥ ${r2(TARGETS.ratio)}: ${ok(ratioMedian >= TARGETS.ratio)}`,
    ` ack latency ms (median of rounds)  collector p50 ${s.collector.ack_p50_ms} p99 ${s.collector.ack_p99_ms}   trailhouse p50 ${s.trailhouse.ack_p50_ms} p99 ${s.trailhouse.ack_p99_ms}`,
    ` peak RSS MiB (median)              collector ${s.collector.peak_rss_mib}   trailhouse ${s.trailhouse.peak_rss_mib}   ratio ${r2(s.rss_ratio)}   target ≤ ${r2(TARGETS.rss)}: ${ok(s.rss_ratio <= TARGETS.rss)}`,
  );
  return lines.join('\n');
}
