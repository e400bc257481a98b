import { describe, expect, it } from 'vitest';
import { Payload } from '../payload.ts';
import { observedConsumer } from '../receiver-helper.ts';
import { testLogger } from '../../test/helpers.ts';
import { LatencyWindow, metricsWindowMs } from './latency-window.ts';
import { MetricsRegistry } from './metrics.ts';

describe('LatencyWindow', () => {
  it('reads quantiles at most 10 % above the true value and the longest exactly, the same however often it is read', () => {
    const w = new LatencyWindow();
    // 1..1000 ms: p50 = 500 ms, p99 = 990 ms.
    for (let ms = 1000; ms >= 1; ms--) w.record(ms / 1000);
    expect(w.count).toBe(1000);
    for (let reading = 0; reading < 3; reading++) {
      for (const [q, exact] of [[0.5, 0.5], [0.99, 0.99], [0.1, 0.1], [0.001, 0.001]] as const) {
        expect(w.quantile(q)).toBeGreaterThanOrEqual(exact);
        expect(w.quantile(q)).toBeLessThanOrEqual(exact * 1.1);
      }
      expect(w.quantile(1)).toBe(1);
    }
  });

  it('covers the last window: durations leave it as time passes, a sixth of it at a time, whoever reads', () => {
    let now = 1_000_000;
    const w = new LatencyWindow({ windowMs: 60_000, now: () => now });
    w.record(2); // the longest, at t0
    now += 15_000;
    for (let i = 0; i < 99; i++) w.record(0.01); // 15 s later
    expect([w.count, w.quantile(1)]).toEqual([100, 2]);
    expect(w.quantile(0.5)).toBeGreaterThanOrEqual(0.01);
    expect(w.quantile(0.5)).toBeLessThanOrEqual(0.011);
    // 59 s after t0 the first duration may be out already (slots of 10 s), 61 s after it is.
    now += 46_000;
    expect(w.count).toBe(99);
    expect(w.quantile(1)).toBeLessThanOrEqual(0.011);
    // 60 s after the others, nothing is left.
    now += 15_000;
    expect([w.count, w.quantile(0.99), w.quantile(1)]).toEqual([0, 0, 0]);
    // A slot reused after a full turn starts empty.
    w.record(0.5);
    expect([w.count, w.quantile(1)]).toEqual([1, 0.5]);
  });

  it('is 60 s long, or TRAILHOUSE_METRICS_WINDOW from 100 ms to 1 h; anything else is refused with the reason', () => {
    expect(metricsWindowMs({})).toBe(60_000);
    expect(metricsWindowMs({ TRAILHOUSE_METRICS_WINDOW: '' })).toBe(60_000);
    expect(metricsWindowMs({ TRAILHOUSE_METRICS_WINDOW: '250ms' })).toBe(250);
    expect(metricsWindowMs({ TRAILHOUSE_METRICS_WINDOW: '100ms' })).toBe(100);
    expect(metricsWindowMs({ TRAILHOUSE_METRICS_WINDOW: '2m' })).toBe(120_000);
    expect(metricsWindowMs({ TRAILHOUSE_METRICS_WINDOW: '1h' })).toBe(3_600_000);
    // Too short wakes the thread every few ms; past an hour the slot timer would overflow Node's timers (a 1 ms timer).
    for (const bad of ['0', '10', 'abc', '-5s', '0.5ms', '99ms', '1h1ms', '30d', '1s;rm', '1e3s', ' 60s']) {
      expect(() => metricsWindowMs({ TRAILHOUSE_METRICS_WINDOW: bad })).toThrow(/TRAILHOUSE_METRICS_WINDOW: .* is not a duration from 100ms to 1h/);
    }
    // A long value is not echoed whole.
    expect(() => metricsWindowMs({ TRAILHOUSE_METRICS_WINDOW: 'x'.repeat(10_000) })).toThrow(/^TRAILHOUSE_METRICS_WINDOW: "x{40}" is not/);
  });

  it('takes tiny, huge, negative and NaN durations without breaking its buckets', () => {
    const w = new LatencyWindow();
    w.record(0);
    w.record(1e-9);
    w.record(3600);
    w.record(-1);
    w.record(Number.NaN);
    expect(w.count).toBe(3);
    expect(w.quantile(0.5)).toBeLessThanOrEqual(1e-5);
    expect(w.quantile(1)).toBe(3600);
    // A quantile in the last bucket never reads above the longest seen.
    expect(w.quantile(0.99)).toBeLessThanOrEqual(3600);
  });
});

describe('trailhouse_receiver_ack_seconds', () => {
  it('is how long the pipeline took to answer each request, refusals included, per receiver and transport, over the last window', async () => {
    const metrics = new MetricsRegistry();
    let delayMs = 30;
    let refuse = false;
    const next = {
      logs: {
        consumeLogs: async () => {
          await new Promise((r) => setTimeout(r, delayMs));
          if (refuse) throw new Error('queue full');
        },
      },
    };
    const settings = { id: 'otlp', config: {}, logger: testLogger(), metrics };
    const a = observedConsumer(settings, next, 'http');
    const b = observedConsumer(settings, next, 'http'); // a second consumer of the same receiver shares the window
    const one = () => Payload.ofBytes('logs', [new Uint8Array([1])], 1);
    await a.logs(one());
    delayMs = 5;
    await b.logs(one());
    refuse = true;
    delayMs = 60;
    await expect(a.logs(one())).rejects.toThrow('queue full');

    const read = (quantile: string) => metrics.read('trailhouse_receiver_ack_seconds', { receiver: 'otlp', transport: 'http', quantile });
    const text = metrics.exposition(); // a scrape
    expect(text).toMatch(/^trailhouse_receiver_ack_seconds\{quantile="0\.99",receiver="otlp",transport="http"\} 0\.0\d+/m);
    // Timers may fire a little early by performance.now(): margins, not the exact delays.
    expect(read('1')).toBeGreaterThanOrEqual(0.05); // the refused request (60 ms) counts
    expect(read('0.5')).toBeGreaterThanOrEqual(0.025); // the middle one, 30 ms
    expect(read('0.5')).toBeLessThan(0.05);
    // A second reader (another scraper of an HA pair, pipeline_stats) sees the same window.
    const first = ['0.5', '0.99', '1'].map(read);
    metrics.snapshot();
    expect(['0.5', '0.99', '1'].map(read)).toEqual(first);
  });
});
