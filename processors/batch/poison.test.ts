/**
 * Poison isolation in the batch processor: one sender's payload that the
 * stages behind cannot process (a PermanentError, or a TypeError thrown on
 * one of its records) fails that sender's call alone, as a PermanentError;
 * the other senders batched with it succeed and their data goes on.
 */
import { describe, expect, it } from 'vitest';
import { getAttr } from '../../core/model.ts';
import { PermanentError, RefusedError, statusFor } from '../../core/errors.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { sampleLogs, testLogger } from '../../test/helpers.ts';
import { BatchProcessor } from './batch.ts';
import { defaultBatchConfig } from './config.ts';
import { Payload } from '../../core/payload.ts';
import type { LogsPayload, TracesPayload } from '../../core/payload.ts';

/** Fails a batch holding any record of service `mallory` with `fail()`; keeps the rest. */
class PoisonSensitive {
  stored: string[] = [];
  calls = 0;
  constructor(private readonly fail: () => Error) {}
  async consumeLogs(payload: LogsPayload): Promise<void> {
    const data = payload.records();
    this.calls++;
    const services = data.resourceLogs.map((rl) => String(getAttr(rl.resource.attributes, 'service.name')));
    if (services.includes('mallory')) throw this.fail();
    this.stored.push(...services);
  }
  async consumeTraces(_data: TracesPayload): Promise<void> {}
}

function make(sink: PoisonSensitive) {
  const config = { ...defaultBatchConfig(), send_batch_size: 1000, send_batch_max_size: 0, timeout: 30 };
  return new BatchProcessor({ id: 'batch', config, logger: testLogger(), metrics: new MetricsRegistry() }, { logs: sink, traces: sink });
}

const failures: Array<[string, () => Error]> = [
  ['a PermanentError', () => new PermanentError('ClickHouse refused the row')],
  ['a TypeError thrown on the record', () => new TypeError("Cannot read properties of undefined (reading 'length')")],
];

describe('batch processor: poison isolation', () => {
  for (const [what, fail] of failures) {
    it(`${what} fails only the poisoning sender's call, with a permanent status; the others are sent`, async () => {
      const sink = new PoisonSensitive(fail);
      const p = make(sink);
      const outcomes = await Promise.allSettled([
        p.consumeLogs(Payload.logs(sampleLogs(2, 'alice'))),
        p.consumeLogs(Payload.logs(sampleLogs(2, 'mallory'))),
        p.consumeLogs(Payload.logs(sampleLogs(2, 'bob'))),
      ]);
      expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
      const err = (outcomes[1] as PromiseRejectedResult).reason as unknown;
      expect(err).toBeInstanceOf(PermanentError);
      expect(statusFor(err)).toMatchObject({ http: 400, grpc: 3 });
      expect(sink.stored.sort()).toEqual(['alice', 'bob']);
      await p.shutdown();
    });
  }

  it('a shared condition (the queue behind is full) is still everyone\'s: no per-sender retries', async () => {
    const sink = new PoisonSensitive(() => new Error('unused'));
    sink.consumeLogs = async () => {
      sink.calls++;
      throw new RefusedError('sending queue is full', 'queue_full');
    };
    const p = make(sink);
    const outcomes = await Promise.allSettled([p.consumeLogs(Payload.logs(sampleLogs(1, 'alice'))), p.consumeLogs(Payload.logs(sampleLogs(1, 'bob')))]);
    expect(outcomes.map((o) => (o as PromiseRejectedResult).reason)).toEqual([expect.any(RefusedError), expect.any(RefusedError)]);
    expect(sink.calls).toBe(1);
    await p.shutdown();
  });
});
