/**
 * Two registries showing each other's series (the main thread and the
 * pipeline thread, core/pipeline-thread.ts): each shows both, and neither's
 * own values are overwritten by the copy of them the other holds.
 */
import { describe, expect, it } from 'vitest';
import { MetricsRegistry } from './metrics.ts';

describe('MetricsRegistry mirrors', () => {
  it('shows the other registry\'s series in its exposition, refreshed at each collect', async () => {
    const main = new MetricsRegistry();
    const thread = new MetricsRegistry();
    main.counter('otelcol_receiver_accepted_log_records', 'accepted', { receiver: 'otlp' }).add(3);
    const stored = thread.counter('trailhouse_store_inserted_rows', 'rows', { table: 'otel.otel_logs' });
    stored.add(5);
    main.mirror(async () => thread.snapshot());
    await main.collect();
    expect(main.exposition()).toContain('trailhouse_store_inserted_rows{table="otel.otel_logs"} 5');
    stored.add(2);
    expect(main.read('trailhouse_store_inserted_rows', { table: 'otel.otel_logs' })).toBe(5);
    await main.collect();
    expect(main.read('trailhouse_store_inserted_rows', { table: 'otel.otel_logs' })).toBe(7);
  });

  it('hands on only its own series, so mirroring both ways never writes a stale copy back', async () => {
    const main = new MetricsRegistry();
    const thread = new MetricsRegistry();
    const accepted = main.counter('otelcol_receiver_accepted_spans', 'accepted', { receiver: 'otlp' });
    thread.counter('trailhouse_store_inserted_rows', 'rows', { table: 'otel.otel_traces' }).add(1);
    main.mirror(async () => thread.snapshot());
    thread.mirror(async () => main.snapshot({ collect: false }));
    accepted.add(10);
    await thread.collect();
    accepted.add(5);
    // The thread's copy says 10; the main thread's own counter says 15 and keeps saying it.
    await main.collect();
    expect(main.read('otelcol_receiver_accepted_spans', { receiver: 'otlp' })).toBe(15);
    expect(thread.snapshot().map((f) => f.name)).toEqual(['trailhouse_store_inserted_rows']);
    await thread.collect();
    expect(thread.read('otelcol_receiver_accepted_spans', { receiver: 'otlp' })).toBe(15);
  });

  it('keeps the last values when the other side cannot answer, and runs collectors only when asked', async () => {
    const main = new MetricsRegistry();
    let calls = 0;
    main.mirror(async () => {
      calls++;
      if (calls > 1) throw new Error('gone');
      return [{ name: 'x', help: 'x', type: 'gauge', series: [{ labels: {}, value: 4 }] }];
    });
    await main.collect();
    await main.collect();
    expect(main.read('x')).toBe(4);
    let ran = 0;
    main.onCollect(() => ran++);
    main.snapshot({ collect: false });
    expect(ran).toBe(0);
    main.snapshot();
    expect(ran).toBe(1);
  });

  it('asks the other side once for a burst of concurrent scrapes, and again after it answered', async () => {
    const main = new MetricsRegistry();
    let asked = 0;
    let answer!: () => void;
    main.mirror(() => {
      asked++;
      return new Promise((resolve) => (answer = () => resolve([{ name: 'y', help: 'y', type: 'gauge', series: [{ labels: {}, value: asked }] }])));
    });
    const burst = Array.from({ length: 20 }, () => main.collect());
    answer();
    await Promise.all(burst);
    expect(asked).toBe(1);
    expect(main.read('y')).toBe(1);
    const next = main.collect();
    answer();
    await next;
    expect(asked).toBe(2);
    expect(main.read('y')).toBe(2);
  });
});
