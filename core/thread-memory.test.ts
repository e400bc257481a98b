/**
 * The memory limiter counts what the pipeline thread holds (core/thread-memory.ts):
 * its reported figure is added to this thread's, and a forced collection asks it too.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { forceGc, measureMemory } from '../processors/memory_limiter/memory-limiter.ts';
import { MetricsRegistry } from './telemetry/metrics.ts';
import { registerProcessMetrics } from './telemetry/process-metrics.ts';
import { dropThreadMemory, otherThreadsMemory, otherThreadsTotals, setThreadMemory } from './thread-memory.ts';

const GiB = 1024 ** 3;

describe('other threads\' memory', () => {
  afterEach(() => {
    dropThreadMemory('a');
    dropThreadMemory('b');
  });

  it('is added to what the memory limiter measures, and stops counting once the thread is dropped', () => {
    const alone = measureMemory();
    setThreadMemory('a', { heapUsed: 1.5 * GiB, heapTotal: 2 * GiB, external: 0.5 * GiB }, () => {});
    setThreadMemory('b', { heapUsed: 0.25 * GiB, heapTotal: 0.5 * GiB, external: 0.75 * GiB }, () => {});
    expect(otherThreadsMemory()).toBe(3 * GiB);
    expect(otherThreadsTotals()).toEqual({ heapUsed: 1.75 * GiB, heapTotal: 2.5 * GiB, external: 1.25 * GiB });
    // This thread's own figure moves a little between calls; the threads' is far larger.
    expect(measureMemory() - alone).toBeGreaterThan(3 * GiB - 64 * 1024 ** 2);
    setThreadMemory('a', { heapUsed: 0.25 * GiB, heapTotal: 1 * GiB, external: 0.25 * GiB }, () => {});
    expect(otherThreadsMemory()).toBe(1.5 * GiB);
    dropThreadMemory('a');
    dropThreadMemory('b');
    expect(otherThreadsMemory()).toBe(0);
    expect(measureMemory()).toBeLessThan(alone + 64 * 1024 ** 2);
  });

  it('is in the process metrics: heap used and memory obtained, every thread', () => {
    const reg = new MetricsRegistry();
    const stop = registerProcessMetrics(reg);
    try {
      reg.exposition();
      const heapAlone = reg.read('otelcol_process_runtime_heap_alloc_bytes');
      const sysAlone = reg.read('otelcol_process_runtime_total_sys_memory_bytes');
      setThreadMemory('a', { heapUsed: 1 * GiB, heapTotal: 2 * GiB, external: 3 * GiB }, () => {});
      reg.exposition();
      expect(reg.read('otelcol_process_runtime_heap_alloc_bytes') - heapAlone).toBeGreaterThan(1 * GiB - 64 * 1024 ** 2);
      expect(reg.read('otelcol_process_runtime_heap_alloc_bytes') - heapAlone).toBeLessThan(1 * GiB + 64 * 1024 ** 2);
      expect(reg.read('otelcol_process_runtime_total_sys_memory_bytes') - sysAlone).toBeGreaterThan(5 * GiB - 64 * 1024 ** 2);
    } finally {
      stop();
    }
  });

  it('a forced collection asks every other thread for one', () => {
    const asked: string[] = [];
    setThreadMemory('a', { heapUsed: 1, heapTotal: 1, external: 0 }, () => asked.push('a'));
    setThreadMemory('b', { heapUsed: 1, heapTotal: 1, external: 0 }, () => asked.push('b'));
    forceGc();
    expect(asked.sort()).toEqual(['a', 'b']);
  });
});
