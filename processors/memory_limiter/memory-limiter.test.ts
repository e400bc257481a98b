import { describe, expect, it } from 'vitest';
import { RefusedError, statusFor } from '../../core/errors.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { RecordingConsumer, sampleLogs, testLogger } from '../../test/helpers.ts';
import { MemoryLimiterProcessor } from './memory-limiter.ts';
import { defaultMemoryLimiterConfig } from './config.ts';
import { Payload } from '../../core/payload.ts';

describe('memory_limiter', () => {
  it('refuses above the soft limit with a retryable 503/UNAVAILABLE and recovers below it', async () => {
    const MiB = 1024 * 1024;
    let used = 10 * MiB;
    const sink = new RecordingConsumer();
    const cfg = { ...defaultMemoryLimiterConfig(), limit_mib: 100, spike_limit_mib: 20 };
    const p = new MemoryLimiterProcessor({ id: 'memory_limiter', config: cfg, logger: testLogger(), metrics: new MetricsRegistry() }, { logs: sink }, () => used);
    await p.start();
    await p.consumeLogs(Payload.logs(sampleLogs(1)));
    used = 85 * MiB; // above soft limit (80)
    p.check();
    const err = await p.consumeLogs(Payload.logs(sampleLogs(1))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect(statusFor(err)).toMatchObject({ http: 503, grpc: 14, retryAfterSeconds: 5 });
    used = 50 * MiB;
    p.check();
    await p.consumeLogs(Payload.logs(sampleLogs(1)));
    expect(sink.logPayloads).toHaveLength(2);
    await p.shutdown();
    await p.shutdown();
  });

  it('above the soft limit forces a full collection first (at most every min_gc_interval_when_soft_limited) and refuses only if memory is still above it', async () => {
    const MiB = 1024 * 1024;
    let used = 10 * MiB;
    let garbage = 0;
    let gcs = 0;
    const gc = () => {
      gcs++;
      used -= garbage;
      garbage = 0;
    };
    const sink = new RecordingConsumer();
    const cfg = { ...defaultMemoryLimiterConfig(), limit_mib: 100, spike_limit_mib: 20, min_gc_interval_when_soft_limited: 60_000 };
    const p = new MemoryLimiterProcessor({ id: 'memory_limiter', config: cfg, logger: testLogger(), metrics: new MetricsRegistry() }, { logs: sink }, () => used, gc);
    await p.start();
    // 75 MiB of it garbage: collected, not refused.
    used = 85 * MiB;
    garbage = 75 * MiB;
    p.check();
    expect(gcs).toBe(1);
    await p.consumeLogs(Payload.logs(sampleLogs(1)));
    // Above the soft limit again within the interval: no second collection, refused.
    used = 85 * MiB;
    garbage = 75 * MiB;
    p.check();
    expect(gcs).toBe(1);
    await expect(p.consumeLogs(Payload.logs(sampleLogs(1)))).rejects.toBeInstanceOf(RefusedError);
    // Above the hard limit (100): collected at every check (min_gc_interval_when_hard_limited 0).
    used = 105 * MiB;
    garbage = 60 * MiB;
    p.check();
    expect(gcs).toBe(2);
    await p.consumeLogs(Payload.logs(sampleLogs(1)));
    expect(sink.logPayloads).toHaveLength(2);
    await p.shutdown();
  });

  it('forceGc collects without node --expose-gc', async () => {
    const { forceGc } = await import('./memory-limiter.ts');
    let ref: WeakRef<object> | undefined;
    (() => {
      ref = new WeakRef({ big: new Array(1000).fill(1) });
    })();
    // A WeakRef target survives until the end of the current job: collect on a later one.
    await new Promise((r) => setImmediate(r));
    forceGc();
    expect(ref!.deref()).toBeUndefined();
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });
});
