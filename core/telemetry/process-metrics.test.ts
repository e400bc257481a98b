import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from './metrics.ts';
import { foldLoopDelay, registerProcessMetrics } from './process-metrics.ts';
import { LatencyWindow } from './latency-window.ts';

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const loopMax = (reg: MetricsRegistry) => reg.read('trailhouse_event_loop_delay_seconds', { quantile: '1' });

/** Blocks the event loop for 120 ms between two short sleeps, then reads the metrics; the maximum delay read. */
async function stallAndRead(reg: MetricsRegistry): Promise<number> {
  await sleep(30);
  busy(120);
  await sleep(30);
  reg.exposition();
  return loopMax(reg);
}

describe('process metrics', () => {
  it('moves the delay histogram into the window by its percentiles, lateness beyond the 10 ms tick, the maximum exact', () => {
    const ms = 1e6;
    let resets = 0;
    // What Node's monitor held after 19 ticks, one of them 78 ms late (the shape it reports).
    const h = {
      count: 19,
      percentiles: new Map([[100, 88.08 * ms], [0, 9.35 * ms], [50, 10.19 * ms], [75, 10.21 * ms], [87.5, 10.23 * ms], [93.75, 10.31 * ms], [96.875, 88.08 * ms]]),
      reset: () => resets++,
    };
    const w = new LatencyWindow({ windowMs: 60_000 });
    foldLoopDelay(w, h as never, 10);
    expect(resets).toBe(1);
    expect(w.count).toBe(19);
    expect(w.quantile(1)).toBeCloseTo(0.07808, 6);
    expect(w.quantile(0.5)).toBeLessThan(0.0005);
    // 18 of 19 on time: the 0.9 quantile is not the stall, the 0.99 is.
    expect(w.quantile(0.9)).toBeLessThan(0.001);
    expect(w.quantile(0.99)).toBeGreaterThan(0.07);
    // An empty histogram adds nothing (and is reset all the same).
    foldLoopDelay(w, { count: 0, percentiles: new Map(), reset: () => resets++ } as never, 10);
    expect([w.count, resets]).toEqual([19, 2]);
  });

  it('reports how late the event loop ran over the last window, the same to every reader', async () => {
    const reg = new MetricsRegistry();
    const stop = registerProcessMetrics(reg);
    try {
      const max = await stallAndRead(reg);
      expect(max).toBeGreaterThan(0.08);
      expect(max).toBeLessThan(1);
      // The 10 ms ticks that ran on time keep the median low.
      expect(reg.read('trailhouse_event_loop_delay_seconds', { quantile: '0.5' })).toBeLessThan(0.08);
      await sleep(60);
      reg.exposition();
      expect(loopMax(reg)).toBe(max);
    } finally {
      stop();
    }
  });

  it('forgets the delay once it is out of the window (TRAILHOUSE_METRICS_WINDOW)', async () => {
    const before = process.env.TRAILHOUSE_METRICS_WINDOW;
    process.env.TRAILHOUSE_METRICS_WINDOW = '300ms';
    const reg = new MetricsRegistry();
    const stop = registerProcessMetrics(reg);
    try {
      expect(await stallAndRead(reg)).toBeGreaterThan(0.08);
      await sleep(450);
      reg.exposition();
      expect(loopMax(reg)).toBeLessThan(0.08);
    } finally {
      stop();
      if (before === undefined) delete process.env.TRAILHOUSE_METRICS_WINDOW;
      else process.env.TRAILHOUSE_METRICS_WINDOW = before;
    }
  });

  it('counts the garbage collector pauses of the thread by kind', async () => {
    const reg = new MetricsRegistry();
    const stop = registerProcessMetrics(reg);
    try {
      // Enough short-lived garbage for several scavenges.
      let keep: unknown[] = [];
      for (let i = 0; i < 2_000_000; i++) {
        keep.push({ i, s: `x${i}` });
        if (keep.length > 1000) keep = [];
      }
      // PerformanceObserver entries arrive asynchronously.
      await new Promise((r) => setTimeout(r, 50));
      const text = reg.exposition();
      expect(text).toMatch(/trailhouse_gc_pause_seconds\{kind="minor"\} [0-9.e-]+/);
      expect(reg.read('trailhouse_gc_pause_seconds', { kind: 'minor' })).toBeGreaterThan(0);
      expect(keep.length).toBeLessThanOrEqual(1001);
    } finally {
      stop();
    }
  });
});
