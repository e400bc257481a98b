import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from './metrics.ts';
import { registerProcessMetrics } from './process-metrics.ts';

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

describe('process metrics', () => {
  it('reports how late the event loop ran over the last window, the same to every reader', async () => {
    const reg = new MetricsRegistry();
    const stop = registerProcessMetrics(reg);
    try {
      await new Promise((r) => setTimeout(r, 30));
      busy(120);
      await new Promise((r) => setTimeout(r, 30));
      reg.exposition();
      const max = reg.read('trailhouse_event_loop_delay_seconds', { quantile: '1' });
      expect(max).toBeGreaterThan(0.08);
      expect(max).toBeLessThan(1);
      // The 10 ms ticks that ran on time keep the median low.
      expect(reg.read('trailhouse_event_loop_delay_seconds', { quantile: '0.5' })).toBeLessThan(0.08);
      await new Promise((r) => setTimeout(r, 60));
      reg.exposition();
      expect(reg.read('trailhouse_event_loop_delay_seconds', { quantile: '1' })).toBe(max);
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
      await new Promise((r) => setTimeout(r, 30));
      busy(120);
      await new Promise((r) => setTimeout(r, 30));
      reg.exposition();
      expect(reg.read('trailhouse_event_loop_delay_seconds', { quantile: '1' })).toBeGreaterThan(0.08);
      await new Promise((r) => setTimeout(r, 450));
      reg.exposition();
      expect(reg.read('trailhouse_event_loop_delay_seconds', { quantile: '1' })).toBeLessThan(0.08);
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
