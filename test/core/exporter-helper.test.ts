import { describe, expect, it } from 'vitest';
import { createExporter, type PushContext } from '../../core/exporter-helper.ts';
import { helperDefaults } from '../../core/exporter-helper-config.ts';
import { forceGc } from '../../processors/memory_limiter/memory-limiter.ts';
import { PermanentError, RefusedError, statusFor } from '../../core/errors.ts';
import type { LogsData } from '../../core/model.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { sampleLogs, testHost, testLogger, waitFor } from '../helpers.ts';
import { Payload } from '../../core/payload.ts';

function make(overrides: Parameters<typeof helperDefaults>[0], push: (d: LogsData, ctx: PushContext) => Promise<void>) {
  const metrics = new MetricsRegistry();
  const cfg = helperDefaults(overrides);
  const exp = createExporter({ id: 'test', config: cfg, logger: testLogger(), metrics }, { pushLogs: (p, ctx) => push(p.records(), ctx) });
  return { exp, metrics };
}

describe('exporter helper', () => {
  it('an idle queue consumer holds nothing of the batch it sent last (it can be collected)', async () => {
    let pushed = 0;
    const { exp } = make({ queue: { enabled: true, num_consumers: 2 } }, async () => void pushed++);
    await exp.start(testHost());
    let ref: WeakRef<LogsData> | undefined;
    await (async () => {
      const data = sampleLogs(3);
      ref = new WeakRef(data);
      await exp.consumeLogs(Payload.logs(data));
    })();
    await waitFor(() => pushed === 1);
    // Collect on a later job (WeakRef targets live to the end of the current one).
    await new Promise((r) => setImmediate(r));
    forceGc();
    expect(ref!.deref()).toBeUndefined();
    await exp.shutdown();
  });

  it('retries transient failures with the same dedup token, then succeeds', async () => {
    const tokens: string[] = [];
    let calls = 0;
    const { exp, metrics } = make({ retry: { initial_interval: 5, max_interval: 10 }, queue: { enabled: false } }, async (_d, ctx) => {
      tokens.push(ctx.dedupToken);
      if (++calls < 3) throw new Error('connection refused');
    });
    await exp.start(testHost());
    await exp.consumeLogs(Payload.logs(sampleLogs(2)));
    expect(calls).toBe(3);
    expect(new Set(tokens).size).toBe(1);
    expect(metrics.read('otelcol_exporter_sent_log_records', { exporter: 'test' })).toBe(2);
    expect(metrics.read('otelcol_exporter_send_failed_log_records', { exporter: 'test' })).toBe(4);
    await exp.shutdown();
  });

  it('sending_queue.sizer items: queue_size counts spans and log records; a batch over the whole capacity still enters an empty queue', async () => {
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    const { exp, metrics } = make({ queue: { enabled: true, num_consumers: 1, queue_size: 10, sizer: 'items' } }, () => blocked);
    await exp.start(testHost());
    await exp.consumeLogs(Payload.logs(sampleLogs(4))); // taken at once by the one consumer, which then hangs
    await waitFor(() => metrics.read('otelcol_exporter_queue_size', { exporter: 'test', data_type: 'logs' }) === 0, 5_000, 'the first batch taken');
    await exp.consumeLogs(Payload.logs(sampleLogs(4)));
    await exp.consumeLogs(Payload.logs(sampleLogs(4)));
    expect(metrics.read('otelcol_exporter_queue_size', { exporter: 'test', data_type: 'logs' })).toBe(8);
    const err = await exp.consumeLogs(Payload.logs(sampleLogs(4))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect((err as RefusedError).reason).toBe('queue_full');
    expect(metrics.read('otelcol_exporter_enqueue_failed_log_records', { exporter: 'test' })).toBe(4);
    // Two items still fit; counted as requests the queue would have taken any batch up to 1000.
    await exp.consumeLogs(Payload.logs(sampleLogs(2)));
    release();
    await exp.shutdown();
    const { exp: alone } = make({ queue: { enabled: true, num_consumers: 1, queue_size: 10, sizer: 'items' } }, () => new Promise(() => {}));
    await alone.start(testHost());
    await alone.consumeLogs(Payload.logs(sampleLogs(1)));
    await new Promise((r) => setTimeout(r, 20));
    await alone.consumeLogs(Payload.logs(sampleLogs(50)));
    await expect(alone.consumeLogs(Payload.logs(sampleLogs(1)))).rejects.toBeInstanceOf(RefusedError);
  });

  it('never retries a permanent error', async () => {
    let calls = 0;
    const { exp } = make({ retry: { initial_interval: 5 }, queue: { enabled: false } }, async () => {
      calls++;
      throw new PermanentError('Cannot parse input');
    });
    await exp.start(testHost());
    await expect(exp.consumeLogs(Payload.logs(sampleLogs(1)))).rejects.toBeInstanceOf(PermanentError);
    expect(calls).toBe(1);
    await exp.shutdown();
  });

  it('uses the payload dedupToken when upstream set one', async () => {
    const tokens: string[] = [];
    const { exp } = make({ queue: { enabled: false } }, async (_d, ctx) => {
      tokens.push(ctx.dedupToken);
    });
    await exp.start(testHost());
    await exp.consumeLogs(Object.assign(Payload.logs(sampleLogs(1)), { dedupToken: 'otlp_logs/3/100-199' }));
    expect(tokens).toEqual(['otlp_logs/3/100-199']);
    await exp.shutdown();
  });

  it('refuses with 429 once the queue is full, and drains the queue on shutdown', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let pushed = 0;
    const { exp } = make({ queue: { enabled: true, num_consumers: 1, queue_size: 2 } }, async (d) => {
      await gate;
      pushed += d.resourceLogs[0]!.scopeLogs[0]!.logRecords.length;
    });
    await exp.start(testHost());
    await exp.consumeLogs(Payload.logs(sampleLogs(1))); // taken by the consumer, blocked on the gate
    await waitFor(() => true);
    await exp.consumeLogs(Payload.logs(sampleLogs(1)));
    await exp.consumeLogs(Payload.logs(sampleLogs(1)));
    const err = await exp.consumeLogs(Payload.logs(sampleLogs(1))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect(statusFor(err).http).toBe(429);
    const stopping = exp.shutdown();
    await expect(exp.consumeLogs(Payload.logs(sampleLogs(1)))).rejects.toBeInstanceOf(RefusedError);
    release();
    await stopping;
    expect(pushed).toBe(3);
  });

  it('with sending_queue.batch, still refuses with 429 once the queue is full behind a slow push', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const pushes: Array<{ token: string; n: number }> = [];
    const batch = { flush_timeout: 10, min_size: 1, max_size: 0, sizer: 'items' as const };
    const { exp } = make({ queue: { enabled: true, num_consumers: 1, queue_size: 2, batch } }, async (d, ctx) => {
      await gate;
      pushes.push({ token: ctx.dedupToken, n: d.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)).length });
    });
    await exp.start(testHost());
    // The first is taken by the consumer (blocked); the second waits as a complete group;
    // then the queue itself holds two. The next is refused, as without batching.
    for (let i = 0; i < 4; i++) {
      await exp.consumeLogs(Payload.logs(sampleLogs(1)));
      await new Promise((r) => setTimeout(r, 20));
    }
    const err = await exp.consumeLogs(Payload.logs(sampleLogs(1))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect(statusFor(err).http).toBe(429);
    release();
    await waitFor(() => pushes.length === 4, 5000, 'the queued batches');
    expect(pushes.every((p) => p.token.startsWith('batch:') && p.n === 1)).toBe(true);
    await exp.shutdown();
  });

  it('with sending_queue.batch, joins batches queued together into one push and drains on shutdown', async () => {
    const pushes: Array<{ token: string; n: number }> = [];
    const batch = { flush_timeout: 60_000, min_size: 100, max_size: 0, sizer: 'items' as const };
    const { exp, metrics } = make({ queue: { enabled: true, num_consumers: 2, queue_size: 10, batch } }, async (d, ctx) => {
      pushes.push({ token: ctx.dedupToken, n: d.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)).length });
    });
    await exp.start(testHost());
    for (const n of [1, 2, 3]) await exp.consumeLogs(Payload.logs(sampleLogs(n)));
    expect(pushes).toHaveLength(0); // below min_size, before flush_timeout
    await exp.shutdown(); // an in-memory queue drains: the open group goes
    expect(pushes).toHaveLength(1);
    expect(pushes[0]!.n).toBe(6);
    expect(metrics.read('otelcol_exporter_sent_log_records', { exporter: 'test' })).toBe(6);
  });
});
