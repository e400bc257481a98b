/**
 * The Collector's process metrics (its service's `otelcol_process_*`), from
 * what Node.js reports: uptime, CPU time, resident memory and the V8 heap in
 * use (the Go runtime's HeapAlloc counterpart). Sampled when the metrics are
 * read, never on a timer. Go's `runtime_total_alloc_bytes` (bytes ever
 * allocated) has no Node.js counterpart and is not printed;
 * `runtime_total_sys_memory_bytes` is V8's heap reserved plus memory outside
 * it (external and array buffers), the nearest to Go's memory obtained from
 * the OS.
 */
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { LatencyWindow } from './latency-window.ts';
import type { MetricsRegistry } from './metrics.ts';
import { otherThreadsTotals } from '../thread-memory.ts';

const GC_KINDS: Record<number, string> = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: 'minor',
  [constants.NODE_PERFORMANCE_GC_MAJOR]: 'major',
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental',
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weakcb',
};

/**
 * What delays answers on the one JavaScript thread, for on-call and for the
 * ack-latency bench, over the metrics' sliding window (latency-window.ts:
 * the last minute by default, the same for every reader): how late the
 * event loop ran (a timer every 10 ms, as libuv's own delay monitor
 * samples) and the garbage collector's pauses on that thread, by kind.
 */
function registerLoopMetrics(reg: MetricsRegistry): () => void {
  const delays = new LatencyWindow();
  const TICK_MS = 10;
  let last = performance.now();
  const tick = setInterval(() => {
    const now = performance.now();
    delays.record(Math.max(0, now - last - TICK_MS) / 1000);
    last = now;
  }, TICK_MS);
  tick.unref();
  const q = (quantile: string) => reg.gauge('trailhouse_event_loop_delay_seconds', 'How late the event loop ran over the last window (60s by default), by quantile.', { quantile });
  const p50 = q('0.5');
  const p99 = q('0.99');
  const max = q('1');
  const pauses = new Map<string, { total: ReturnType<MetricsRegistry['counter']>; seconds: number }>();
  const pauseWindow = new LatencyWindow();
  const longestGauge = reg.gauge('trailhouse_gc_pause_longest_seconds', 'The longest garbage-collection pause of the JavaScript thread over the last window (60s by default).');
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = GC_KINDS[((e as PerformanceEntry & { detail?: { kind?: number } }).detail)?.kind ?? -1] ?? 'other';
      let p = pauses.get(kind);
      if (!p) pauses.set(kind, (p = { total: reg.counter('trailhouse_gc_pause_seconds', 'Garbage-collection pauses of the JavaScript thread, by kind.', { kind }), seconds: 0 }));
      p.seconds += e.duration / 1000;
      pauseWindow.record(e.duration / 1000);
    }
  });
  obs.observe({ entryTypes: ['gc'] });
  reg.onCollect(() => {
    p50.set(delays.quantile(0.5));
    p99.set(delays.quantile(0.99));
    max.set(delays.quantile(1));
    for (const p of pauses.values()) p.total.add(p.seconds - p.total.value);
    longestGauge.set(pauseWindow.quantile(1));
  });
  return () => {
    clearInterval(tick);
    obs.disconnect();
  };
}

/** Registers the process metrics; the function returned stops the loop and GC observers. */
export function registerProcessMetrics(reg: MetricsRegistry): () => void {
  const uptime = reg.counter('otelcol_process_uptime', 'Uptime of the process');
  const cpu = reg.counter('otelcol_process_cpu_seconds', 'Total CPU user and system time in seconds');
  const rss = reg.gauge('otelcol_process_memory_rss', 'Total physical memory (resident set size)');
  const heap = reg.gauge('otelcol_process_runtime_heap_alloc_bytes', 'Bytes of allocated heap objects (V8 heap used, every JavaScript thread)');
  const sys = reg.gauge('otelcol_process_runtime_total_sys_memory_bytes', 'Total bytes of memory obtained from the OS (V8 heap reserved and external memory, every JavaScript thread)');
  reg.onCollect(() => {
    uptime.add(process.uptime() - uptime.value);
    const u = process.cpuUsage();
    cpu.add((u.user + u.system) / 1e6 - cpu.value);
    const m = process.memoryUsage();
    // Every JavaScript thread's heap (the pipeline thread's as it last reported it, core/thread-memory.ts).
    const t = otherThreadsTotals();
    rss.set(m.rss);
    heap.set(m.heapUsed + t.heapUsed);
    sys.set(m.heapTotal + m.external + t.heapTotal + t.external);
  });
  return registerLoopMetrics(reg);
}
