import { describe, expect, it } from 'vitest';
import { createExporter, helperDefaults, type PushContext } from '../../core/exporter-helper.ts';
import { PermanentError, RefusedError, statusFor } from '../../core/errors.ts';
import type { LogsData } from '../../core/model.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { sampleLogs, testHost, testLogger, waitFor } from '../helpers.ts';

function make(overrides: Parameters<typeof helperDefaults>[0], push: (d: LogsData, ctx: PushContext) => Promise<void>) {
  const metrics = new MetricsRegistry();
  const cfg = helperDefaults(overrides);
  const exp = createExporter({ id: 'test', config: cfg, logger: testLogger(), metrics }, { pushLogs: push });
  return { exp, metrics };
}

describe('exporter helper', () => {
  it('retries transient failures with the same dedup token, then succeeds', async () => {
    const tokens: string[] = [];
    let calls = 0;
    const { exp, metrics } = make({ retry: { initial_interval: 5, max_interval: 10 }, queue: { enabled: false } }, async (_d, ctx) => {
      tokens.push(ctx.dedupToken);
      if (++calls < 3) throw new Error('connection refused');
    });
    await exp.start(testHost());
    await exp.consumeLogs(sampleLogs(2));
    expect(calls).toBe(3);
    expect(new Set(tokens).size).toBe(1);
    expect(metrics.read('otelcol_exporter_sent_log_records', { exporter: 'test' })).toBe(2);
    expect(metrics.read('otelcol_exporter_send_failed_log_records', { exporter: 'test' })).toBe(4);
    await exp.shutdown();
  });

  it('never retries a permanent error', async () => {
    let calls = 0;
    const { exp } = make({ retry: { initial_interval: 5 }, queue: { enabled: false } }, async () => {
      calls++;
      throw new PermanentError('Cannot parse input');
    });
    await exp.start(testHost());
    await expect(exp.consumeLogs(sampleLogs(1))).rejects.toBeInstanceOf(PermanentError);
    expect(calls).toBe(1);
    await exp.shutdown();
  });

  it('uses the payload dedupToken when upstream set one', async () => {
    const tokens: string[] = [];
    const { exp } = make({ queue: { enabled: false } }, async (_d, ctx) => {
      tokens.push(ctx.dedupToken);
    });
    await exp.start(testHost());
    await exp.consumeLogs(Object.assign(sampleLogs(1), { dedupToken: 'otlp_logs/3/100-199' }));
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
    await exp.consumeLogs(sampleLogs(1)); // taken by the consumer, blocked on the gate
    await waitFor(() => true);
    await exp.consumeLogs(sampleLogs(1));
    await exp.consumeLogs(sampleLogs(1));
    const err = await exp.consumeLogs(sampleLogs(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect(statusFor(err).http).toBe(429);
    const stopping = exp.shutdown();
    await expect(exp.consumeLogs(sampleLogs(1))).rejects.toBeInstanceOf(RefusedError);
    release();
    await stopping;
    expect(pushed).toBe(3);
  });
});
