/**
 * Idempotent offers (core/queue/once.ts): a batch offered again after a
 * restart under its `once:` token is taken as done when a frame with that
 * token is on disk, acknowledged or not, even when its segment was wholly
 * acknowledged (and so deleted) at that start. Other tokens are stored again.
 */
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { QueueItem } from '../../core/queue/memory-queue.ts';
import { Payload } from '../../core/payload.ts';
import { sampleLogs, testLogger } from '../../test/helpers.ts';
import { FileQueue } from './file-queue.ts';

const item = (token: string): QueueItem => ({ signal: 'logs', data: Payload.logs(sampleLogs(2)), count: 2, dedupToken: token });

describe('file_storage queue: idempotent offers', () => {
  it('a once: batch found at start is not stored twice; a plain token is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'th-once-'));
    const q = await FileQueue.open(dir, 10, testLogger());
    await q.offer(item('once:filelog:a'));
    await q.offer(item('plain-1'));
    await q.offer(item('once:filelog:sent'));
    // The last one was delivered and acknowledged before the crash.
    const taken = [(await q.take())!, (await q.take())!, (await q.take())!];
    await q.ack(taken[2]!, true);
    // kill -9: no dispose; the lock's pid is ours, so the next open may take it.
    const q2 = await FileQueue.open(dir, 10, testLogger());
    expect(q2.size).toBe(2);
    await q2.offer(item('once:filelog:a'));
    await q2.offer(item('once:filelog:sent'));
    await q2.offer(item('plain-1'));
    await q2.offer(item('once:filelog:new'));
    const tokens: string[] = [];
    while (q2.size > 0) tokens.push((await q2.take())!.dedupToken);
    expect(tokens).toEqual(['once:filelog:a', 'plain-1', 'plain-1', 'once:filelog:new']);
    await q2.dispose();
    expect(readdirSync(dir).some((f) => f.endsWith('.seg'))).toBe(true);
  });
});
