/**
 * The pipeline thread's own side (core/pipeline-thread.ts has the main
 * thread's): it builds nothing itself; `trailhouse run` hands it the service
 * for the half of the config behind the spool, and this serves the main
 * thread's messages for it.
 */
import { writeFileSync } from 'node:fs';
import { parentPort } from 'node:worker_threads';
import { fullCollection } from './gc.ts';
import { Payload } from './payload.ts';
import { toWire, type FromThread, type ToThread } from './pipeline-thread-wire.ts';
import { emitSecurityEvent } from './security-events.ts';
import type { Service } from './service.ts';
import { sendSpool } from './spool-channel.ts';
import type { MetricsSnapshot } from './telemetry/metrics.ts';

/** How often the pipeline thread reports its memory (the memory limiter checks every second by default). */
const MEMORY_REPORT_MS = 250;

/** The worker's log lines, written by the main thread (worker stdio is not flushed when it is ended). */
export function threadLogWriter(): (line: string) => void {
  return (line) => parentPort?.postMessage({ t: 'line', line } satisfies FromThread);
}

/** The worker's side: serves the main thread's messages for `service` (not started yet). */
export async function servePipelineThread(service: Service): Promise<void> {
  const port = parentPort;
  if (!port) throw new Error('not on a worker thread');
  const post = (m: FromThread) => port.postMessage(m);
  nameThread('th-pipeline');
  const never = new AbortController().signal;
  // What this thread holds, for the memory limiter in front of the spool (core/thread-memory.ts).
  const reportMemory = () => {
    const u = process.memoryUsage();
    post({ t: 'mem', m: { heapUsed: u.heapUsed, heapTotal: u.heapTotal, external: u.external } });
  };
  const memTimer = setInterval(reportMemory, MEMORY_REPORT_MS);
  memTimer.unref();
  reportMemory();
  /** A batch's requests that came ahead of it. */
  const arriving = new Map<number, Uint8Array[]>();
  service.onFatal((err) => post({ t: 'fatal', message: err.message }));
  // The main thread's counters, for what reads the whole process's (pipeline_stats).
  let nextId = 1;
  const mainWaits = new Map<number, (s: MetricsSnapshot | undefined) => void>();
  service.metrics.mirror(
    () =>
      new Promise<MetricsSnapshot>((resolve, reject) => {
        const id = nextId++;
        const timer = setTimeout(() => (mainWaits.delete(id), reject(new Error('the main thread did not answer for its metrics'))), 2000);
        mainWaits.set(id, (snap) => (clearTimeout(timer), snap ? resolve(snap) : reject(new Error('no metrics'))));
        post({ t: 'mainMetrics?', id });
      }),
  );
  port.on('message', (m: ToThread) => {
    switch (m.t) {
      case 'parts': {
        const have = arriving.get(m.id);
        if (have) have.push(...m.parts);
        else arriving.set(m.id, m.parts);
        return;
      }
      case 'drop':
        arriving.delete(m.id);
        return;
      case 'push': {
        const parts = [...(arriving.get(m.id) ?? []), ...m.parts];
        arriving.delete(m.id);
        const p = Payload.ofBytes(m.signal, parts, m.count, m.client);
        p.dedupToken = m.token;
        p.sequence = m.sequence;
        sendSpool(m.name, p, never).then(
          () => post({ t: 'done', id: m.id }),
          // A copy of the bytes goes back (the main thread let its own go), so the next try has them.
          (err: unknown) => post({ t: 'done', id: m.id, err: toWire(err), parts }),
        );
        return;
      }
      case 'sec':
        emitSecurityEvent(m.e);
        return;
      case 'metrics':
        post({ t: 'metrics', id: m.id, snap: service.metrics.snapshot() });
        return;
      case 'mainMetrics':
        mainWaits.get(m.id)?.(m.snap);
        mainWaits.delete(m.id);
        return;
      case 'gc':
        fullCollection();
        reportMemory();
        return;
      case 'stop':
        clearInterval(memTimer);
        service.shutdown().then(
          () => post({ t: 'stopped' }),
          (err: unknown) => post({ t: 'stopped', message: (err as Error).message }),
        );
        return;
    }
  });
  try {
    await service.start();
  } catch (err) {
    post({ t: 'failed', message: (err as Error).message });
    return;
  }
  post({ t: 'started' });
}

/** Names this OS thread (Linux: `top -H`, /proc/<pid>/task/<tid>/comm); elsewhere nothing. */
function nameThread(name: string): void {
  try {
    writeFileSync('/proc/thread-self/comm', name);
  } catch {
    // Not Linux: the thread keeps its name.
  }
}
