/**
 * The pipeline thread: the pipelines behind the spool (core/service-split.ts)
 * on a worker thread of their own, so the main thread only receives,
 * queues, fsyncs and answers.
 *
 * Between the threads:
 * - each batch the spool exporter sends goes over as its Export requests,
 *   copied once into one transferred buffer, with its count, dedup token,
 *   stream and client; the answer comes back as the spool receiver's
 *   outcome, its error rebuilt as the same class (a refusal stays a
 *   refusal, so the exporter's retry rules do not change);
 * - the process's security events (receivers' refused logins,
 *   pipeline.start/stop) go to the thread, where the audit writer and the
 *   detectors are;
 * - self-metrics: the main thread's endpoint reads the thread's registry at
 *   each scrape;
 * - a fatal error either side stops the process, as on one thread.
 *
 * The worker runs bin/trailhouse.mjs, which loads the same code the process
 * runs (the bundle or the sources) and enters `pipelineThreadMain` there.
 */
import { Worker } from 'node:worker_threads';
import { RefusedError } from './errors.ts';
import type { AnyPayload } from './payload.ts';
import { clientToWire, fromWire, type FromThread, type PipelineThreadData, type ToThread } from './pipeline-thread-wire.ts';
import { onSecurityEvent } from './security-events.ts';
import { attachSpool } from './spool-channel.ts';
import type { LogFields, Level, Logger } from './telemetry/logger.ts';
import type { MetricsRegistry, MetricsSnapshot } from './telemetry/metrics.ts';
import { dropThreadMemory, setThreadMemory } from './thread-memory.ts';

/** Bytes of a batch sent to the thread per message, between two turns of the event loop (about a millisecond's worth). */
const COPY_SLICE = 1 << 20;

export interface PipelineThreadOptions {
  configText: string;
  channels: string[];
  logger: Logger;
  /** The main thread's registry: it shows the thread's series too. */
  metrics: MetricsRegistry;
  onFatal: (err: Error) => void;
  /** Writes one of the thread's log lines (they come over in order, so none is lost at shutdown). */
  writeLine: (line: string) => void;
  /** The thread's log lines, for the OTLP export of our own logs. */
  onLog?: (level: Level, msg: string, fields: LogFields) => void;
}

/** The main thread's side. */
export class PipelineThread {
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (e: Error, parts?: Uint8Array[]) => void }>();
  private readonly metricsWaits = new Map<number, (s: MetricsSnapshot) => void>();
  private readonly detach: Array<() => void> = [];
  private closed = false;
  private stopping: Promise<void> | undefined;
  private stopped: ((message: string | undefined) => void) | undefined;

  private constructor(
    private readonly worker: Worker,
    private readonly opts: PipelineThreadOptions,
  ) {}

  /** Starts the worker and its pipelines; resolves once its spool receivers take batches. */
  static async start(opts: PipelineThreadOptions): Promise<PipelineThread> {
    const data: PipelineThreadData = { role: 'pipeline-thread', configText: opts.configText, forwardLogs: opts.onLog !== undefined };
    // One directory up from this module is the project root, from core/ and from dist/ alike.
    const worker = new Worker(new URL('../bin/trailhouse.mjs', import.meta.url), { workerData: data, argv: [] });
    const t = new PipelineThread(worker, opts);
    await new Promise<void>((resolve, reject) => {
      let up = false;
      worker.on('message', (m: FromThread) => {
        if (m.t === 'started') {
          up = true;
          resolve();
        } else if (m.t === 'failed') reject(new Error(`pipeline thread: ${m.message}`));
        else t.onMessage(m);
      });
      worker.on('error', (err) => {
        if (!up) reject(err);
        else t.fail(err);
      });
      worker.on('exit', (code) => {
        if (!up) reject(new Error(`pipeline thread exited (code ${code}) before it started`));
        else t.fail(new Error(`pipeline thread exited (code ${code})`));
      });
    }).catch(async (err: unknown) => {
      await worker.terminate();
      throw err;
    });
    for (const name of opts.channels) t.detach.push(attachSpool(name, (p) => t.push(name, p)));
    // The first subscriber also gets the events raised before it (security-events.ts).
    t.detach.push(onSecurityEvent((e) => t.post({ t: 'sec', e })));
    opts.metrics.mirror(() => t.readMetrics());
    return t;
  }

  private post(m: ToThread): void {
    if (!this.closed) this.worker.postMessage(m);
  }

  private onMessage(m: FromThread): void {
    switch (m.t) {
      case 'done': {
        const w = this.pending.get(m.id);
        this.pending.delete(m.id);
        if (m.err) w?.reject(fromWire(m.err), m.parts);
        else w?.resolve();
        return;
      }
      case 'metrics':
        this.metricsWaits.get(m.id)?.(m.snap);
        this.metricsWaits.delete(m.id);
        return;
      case 'line':
        this.opts.writeLine(m.line);
        return;
      case 'mem':
        setThreadMemory('pipeline', m.m, () => this.post({ t: 'gc' }));
        return;
      case 'mainMetrics?':
        // Counters only (no collector runs: they reset what the scrape reads).
        this.post({ t: 'mainMetrics', id: m.id, snap: this.opts.metrics.snapshot({ collect: false }) });
        return;
      case 'log':
        this.opts.onLog?.(m.level, m.msg, m.fields);
        return;
      case 'fatal':
        this.opts.onFatal(new Error(m.message));
        return;
      case 'stopped':
        this.stopped?.(m.message);
        return;
    }
  }

  /** The worker died: what waits on it is refused, and the process stops. */
  private fail(err: Error): void {
    if (this.closed) return;
    this.closed = true;
    this.refuseAll(`pipeline thread failed: ${err.message}`);
    this.opts.logger.error('pipeline thread failed', { error: err });
    this.opts.onFatal(err);
  }

  private refuseAll(why: string): void {
    dropThreadMemory('pipeline');
    for (const w of this.pending.values()) w.reject(new RefusedError(why, 'shutting_down'));
    this.pending.clear();
  }

  /**
   * One batch to the thread's spool receiver `name`; settles as that
   * receiver's answer. Its requests go over as clones, about a megabyte per
   * message with other work between: a spool group is tens of megabytes,
   * which copied at once would hold up every sender's answer for as long.
   * A clone is copied into the message, not into memory of this thread's
   * heap: buffers allocated here would count toward its external memory and
   * bring its full collections sooner.
   */
  private async push(name: string, p: AnyPayload): Promise<void> {
    const refused = () => new RefusedError('pipeline thread is shut down', 'shutting_down');
    if (this.closed || this.stopping) throw refused();
    const parts = p.toBytes();
    // Fail closed: a batch whose bytes went to the thread and did not come back is never sent empty.
    if (parts.length === 0 && p.count > 0) throw new Error(`batch of ${p.count} records has no bytes: its copy was not returned by the pipeline thread`);
    const id = this.nextId++;
    let chunk: Uint8Array[] = [];
    let size = 0;
    for (const x of parts) {
      // A view into a larger buffer would be cloned with all of that buffer.
      chunk.push(x.byteOffset === 0 && x.byteLength === x.buffer.byteLength ? x : x.slice());
      if ((size += x.byteLength) >= COPY_SLICE) {
        this.post({ t: 'parts', id, parts: chunk });
        chunk = [];
        size = 0;
        await new Promise<void>((r) => setImmediate(r));
        if (this.closed || this.stopping) {
          this.post({ t: 'drop', id });
          throw refused();
        }
      }
    }
    const done = new Promise<void>((resolve, reject) =>
      this.pending.set(id, {
        resolve,
        reject: (err, back) => {
          // Refused: the thread sent the bytes back, for the exporter's next try.
          if (back) p.replaceParts(back);
          reject(err);
        },
      }),
    );
    this.post({ t: 'push', id, name, signal: p.signal, parts: chunk, count: p.count, token: p.dedupToken, sequence: p.sequence, client: clientToWire(p.client) });
    // The thread holds the batch for as long as its pipelines do (correlate's
    // window); this thread need not hold a second copy meanwhile. The queue's
    // frame on disk stays until the thread's answer acknowledges it.
    p.replaceParts([]);
    return done;
  }

  private readMetrics(): Promise<MetricsSnapshot> {
    if (this.closed) return Promise.reject(new Error('pipeline thread is shut down'));
    const id = this.nextId++;
    return new Promise<MetricsSnapshot>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.metricsWaits.delete(id);
        reject(new Error('pipeline thread did not answer for its metrics'));
      }, 2000);
      this.metricsWaits.set(id, (s) => {
        clearTimeout(timer);
        resolve(s);
      });
      this.post({ t: 'metrics', id });
    });
  }

  /**
   * Shuts the thread's service down (its spool receivers refuse from now on,
   * its processors flush into its exporters) and ends the worker. Idempotent.
   */
  stop(): Promise<void> {
    return (this.stopping ??= (async () => {
      for (const d of this.detach.splice(0)) d();
      if (this.closed) return;
      const message = await new Promise<string | undefined>((resolve) => {
        this.stopped = resolve;
        this.worker.once('exit', () => resolve('pipeline thread exited during shutdown'));
        this.post({ t: 'stop' });
      });
      this.closed = true;
      this.refuseAll('pipeline thread is shut down');
      this.worker.unref();
      if (message) throw new Error(message);
    })());
  }
}

