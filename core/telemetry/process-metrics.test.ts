import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from './metrics.ts';
import { registerProcessMetrics } from './process-metrics.ts';

const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

describe('process metrics', () => {
  it('reports how late the event loop ran since the last reading, and resets', async () => {
    const reg = new MetricsRegistry();
    const stop = registerProcessMetrics(reg);
    try {
      await new Promise((r) => setTimeout(r, 30));
      busy(120);
      await new Promise((r) => setTimeout(r, 30));
      reg.exposition();
      expect(reg.read('trailhouse_event_loop_delay_seconds', { quantile: '1' })).toBeGreaterThan(0.08);
      await new Promise((r) => setTimeout(r, 60));
      reg.exposition();
      expect(reg.read('trailhouse_event_loop_delay_seconds', { quantile: '1' })).toBeLessThan(0.08);
    } finally {
      stop();
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
