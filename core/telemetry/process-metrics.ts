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
import type { MetricsRegistry } from './metrics.ts';

export function registerProcessMetrics(reg: MetricsRegistry): void {
  const uptime = reg.counter('otelcol_process_uptime', 'Uptime of the process');
  const cpu = reg.counter('otelcol_process_cpu_seconds', 'Total CPU user and system time in seconds');
  const rss = reg.gauge('otelcol_process_memory_rss', 'Total physical memory (resident set size)');
  const heap = reg.gauge('otelcol_process_runtime_heap_alloc_bytes', 'Bytes of allocated heap objects (V8 heap used)');
  const sys = reg.gauge('otelcol_process_runtime_total_sys_memory_bytes', 'Total bytes of memory obtained from the OS (V8 heap reserved, external and array buffers)');
  reg.onCollect(() => {
    uptime.add(process.uptime() - uptime.value);
    const u = process.cpuUsage();
    cpu.add((u.user + u.system) / 1e6 - cpu.value);
    const m = process.memoryUsage();
    rss.set(m.rss);
    heap.set(m.heapUsed);
    sys.set(m.heapTotal + m.external + m.arrayBuffers);
  });
}
