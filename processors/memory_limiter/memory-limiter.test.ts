import { describe, expect, it } from 'vitest';
import { RefusedError, statusFor } from '../../core/errors.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { RecordingConsumer, sampleLogs, testLogger } from '../../test/helpers.ts';
import { MemoryLimiterProcessor } from './memory-limiter.ts';
import { defaultMemoryLimiterConfig } from './config.ts';

describe('memory_limiter', () => {
  it('refuses above the soft limit with a retryable 503/UNAVAILABLE and recovers below it', async () => {
    const MiB = 1024 * 1024;
    let used = 10 * MiB;
    const sink = new RecordingConsumer();
    const cfg = { ...defaultMemoryLimiterConfig(), limit_mib: 100, spike_limit_mib: 20 };
    const p = new MemoryLimiterProcessor({ id: 'memory_limiter', config: cfg, logger: testLogger(), metrics: new MetricsRegistry() }, { logs: sink }, () => used);
    await p.start();
    await p.consumeLogs(sampleLogs(1));
    used = 85 * MiB; // above soft limit (80)
    p.check();
    const err = await p.consumeLogs(sampleLogs(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect(statusFor(err)).toMatchObject({ http: 503, grpc: 14, retryAfterSeconds: 5 });
    used = 50 * MiB;
    p.check();
    await p.consumeLogs(sampleLogs(1));
    expect(sink.logs).toHaveLength(2);
    await p.shutdown();
    await p.shutdown();
  });
});
