/**
 * The memory limiter counts what the pipeline thread holds (core/thread-memory.ts):
 * its reported figure is added to this thread's, and a forced collection asks it too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { forceGc, measureMemory } from '../processors/memory_limiter/memory-limiter.ts';
import { dropThreadMemory, otherThreadsMemory, setThreadMemory } from './thread-memory.ts';

const GiB = 1024 ** 3;

describe('other threads\' memory', () => {
  afterEach(() => {
    dropThreadMemory('a');
    dropThreadMemory('b');
  });

  it('is added to what the memory limiter measures, and stops counting once the thread is dropped', () => {
    const alone = measureMemory();
    setThreadMemory('a', 2 * GiB, () => {});
    setThreadMemory('b', 1 * GiB, () => {});
    expect(otherThreadsMemory()).toBe(3 * GiB);
    // This thread's own figure moves a little between calls; the threads' is far larger.
    expect(measureMemory() - alone).toBeGreaterThan(3 * GiB - 64 * 1024 ** 2);
    setThreadMemory('a', 0.5 * GiB, () => {});
    expect(otherThreadsMemory()).toBe(1.5 * GiB);
    dropThreadMemory('a');
    dropThreadMemory('b');
    expect(otherThreadsMemory()).toBe(0);
    expect(measureMemory()).toBeLessThan(alone + 64 * 1024 ** 2);
  });

  it('a forced collection asks every other thread for one', () => {
    const asked: string[] = [];
    setThreadMemory('a', 1, () => asked.push('a'));
    setThreadMemory('b', 1, () => asked.push('b'));
    forceGc();
    expect(asked.sort()).toEqual(['a', 'b']);
  });
});
