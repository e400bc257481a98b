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
import { constants, monitorEventLoopDelay, PerformanceObserver, type IntervalHistogram } from 'node:perf_hooks';
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
 * Moves what Node's event-loop delay histogram holds into `window` and
 * resets it. The histogram cannot be merged into another, so its
 * distribution goes in as its percentiles give it (each step's share of the
 * samples at that step's value: exact at the maximum, finer towards the
 * tail); a sample counts as the lateness beyond the timer's own interval.
 */
export function foldLoopDelay(window: LatencyWindow, h: IntervalHistogram, resolutionMs: number): void {
  const n = h.count;
  if (n > 0) {
    let placed = 0;
    for (const [p, v] of [...h.percentiles].sort((a, b) => a[0] - b[0])) {
      const upTo = p >= 100 ? n : Math.min(n, Math.round((p / 100) * n));
      if (upTo > placed) window.recordMany(Math.max(0, v / 1e9 - resolutionMs / 1000), upTo - placed);
      placed = Math.max(placed, upTo);
    }
  }
  h.reset();
}

/**
 * What delays answers on the one JavaScript thread, for on-call and for the
 * ack-latency bench, over the metrics' sliding window (latency-window.ts:
 * the last minute by default, the same for every reader): how late the
 * event loop ran (libuv's delay monitor, every 10 ms, moved into the
 * window at each slot and each reading) and the garbage collector's pauses
 * on that thread, by kind.
 */
function registerLoopMetrics(reg: MetricsRegistry): () => void {
  const RESOLUTION_MS = 10;
  const delay = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  delay.enable();
  const delays = new LatencyWindow();
  const fold = () => foldLoopDelay(delays, delay, RESOLUTION_MS);
  const slots = setInterval(fold, delays.slotLengthMs);
  slots.unref();
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
    fold();
    p50.set(delays.quantile(0.5));
    p99.set(delays.quantile(0.99));
    max.set(delays.quantile(1));
    for (const p of pauses.values()) p.total.add(p.seconds - p.total.value);
    longestGauge.set(pauseWindow.quantile(1));
  });
  return () => {
    clearInterval(slots);
    delay.disable();
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
