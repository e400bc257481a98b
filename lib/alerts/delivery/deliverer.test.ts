/**
 * The delivery loop outlives a failure of its queue: an ack that throws
 * (the queue's disk, say) starts the loop again after a wait, and what is
 * queued afterwards is still delivered.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MemoryQueue } from '../../../core/queue/memory-queue.ts';
import { silentLogger } from '../../../core/telemetry/logger.ts';
import { MetricsRegistry } from '../../../core/telemetry/metrics.ts';
import { signal } from '../../../extensions/alerts/fixture.test-helper.ts';
import { alertFromSignal, type Alert } from '../alert.ts';
import { Deliverer } from './deliverer.ts';

let d: Deliverer | undefined;
afterEach(async () => {
  await d?.close();
  d = undefined;
});

describe('Deliverer', () => {
  it('starts its loop again after the queue fails, and delivers what comes next', async () => {
    const sent: Alert[] = [];
    const queue = new MemoryQueue(100);
    let failAcks = 1;
    const ack = queue.ack.bind(queue);
    queue.ack = () => (failAcks-- > 0 ? Promise.reject(new Error('disk gone')) : ack());
    d = new Deliverer({ name: 'webhook', maxBatch: 10, send: async (alerts) => void sent.push(...alerts) }, queue, { initialMs: 10, maxMs: 20 }, silentLogger, new MetricsRegistry());
    d.start();
    d.enqueue(alertFromSignal(signal({ key: 'first' })));
    await expect.poll(() => sent.length, { timeout: 5000 }).toBe(1);
    d.enqueue(alertFromSignal(signal({ key: 'second' })));
    await expect.poll(() => sent.map((a) => a.key), { timeout: 5000 }).toEqual(['first', 'second']);
  });
});
