import { describe, expect, it } from 'vitest';
import { Payload } from '../payload.ts';
import { observedConsumer } from '../receiver-helper.ts';
import { testLogger } from '../../test/helpers.ts';
import { LatencyWindow } from './latency-window.ts';
import { MetricsRegistry } from './metrics.ts';

describe('LatencyWindow', () => {
  it('reads quantiles at most 10 % above the true value, the longest exactly, and forgets on reset', () => {
    const w = new LatencyWindow();
    // 1..1000 ms: p50 = 500 ms, p99 = 990 ms.
    for (let ms = 1000; ms >= 1; ms--) w.record(ms / 1000);
    expect(w.count).toBe(1000);
    for (const [q, exact] of [[0.5, 0.5], [0.99, 0.99], [0.1, 0.1], [0.001, 0.001]] as const) {
      expect(w.quantile(q)).toBeGreaterThanOrEqual(exact);
      expect(w.quantile(q)).toBeLessThanOrEqual(exact * 1.1);
    }
    expect(w.quantile(1)).toBe(1);
    w.reset();
    expect([w.count, w.quantile(0.5), w.quantile(1)]).toEqual([0, 0, 0]);
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
  it('is how long the pipeline took to answer each request, refusals included, per receiver and transport, since the last read', async () => {
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
    const text = metrics.exposition(); // a scrape: it reads the window and starts the next
    expect(text).toMatch(/^trailhouse_receiver_ack_seconds\{quantile="0\.99",receiver="otlp",transport="http"\} 0\.0\d+/m);
    // Timers may fire a little early by performance.now(): margins, not the exact delays.
    expect(read('1')).toBeGreaterThanOrEqual(0.05); // the refused request (60 ms) counts
    expect(read('0.5')).toBeGreaterThanOrEqual(0.025); // the middle one, 30 ms
    expect(read('0.5')).toBeLessThan(0.05);
    // The next read covers only what came after this one.
    metrics.snapshot();
    expect(read('1')).toBe(0);
  });
});
