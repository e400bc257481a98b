/**
 * What every exporter shares, so an exporter itself only writes `push`:
 * a sending queue (in memory, or persistent through a storage extension),
 * consumers draining it, retry with exponential backoff, a per-attempt
 * timeout, and the Collector's exporter metrics. Modelled on the Collector's
 * exporterhelper.
 *
 * Delivery: with the queue on, `consumeX` settles once the batch is queued
 * (durably, when the queue is persistent); with it off, once `push` succeeded.
 * A full queue refuses with RefusedError('queue_full') → 429/RESOURCE_EXHAUSTED.
 * A PermanentError from `push` is never retried (nor a TypeError/RangeError:
 * data a stage cannot process, see core/dead-letter.ts). A batch that can
 * never be sent is dead-lettered; a group of batches joined after the queue
 * is first retried batch by batch, so one sender's poison does not take the
 * others' accepted data with it. Each batch carries one
 * deduplication token for all its attempts, so a retried insert can be
 * recognised downstream.
 */
import { randomUUID } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import type { Component, CreateSettings, Host, LogsConsumer, Reads, TracesConsumer } from './component.ts';
import { once } from './component.ts';
import { PermanentError, RefusedError, ThrottledError } from './errors.ts';
import { DeadLetter, cannotSucceed } from './dead-letter.ts';
import { join } from 'node:path';
import type { Signal } from './model.ts';
import type { AnyPayload, LogsPayload, TracesPayload } from './payload.ts';
import type { Logger } from './telemetry/logger.ts';
import { exporterMetrics, type ExporterMetrics } from './telemetry/metrics.ts';
import { MemoryQueue, type BatchQueue, type QueueItem } from './queue/memory-queue.ts';
import { QueueBatcher, type GroupItem } from './queue/batching.ts';
import { ItemCapacity } from './queue/sizer.ts';
import type { ExporterHelperConfig } from './exporter-helper-config.ts';

/** Context of one push attempt. */
export interface PushContext {
  /** Same on every attempt of one batch. */
  dedupToken: string;
  attempt: number;
  /** Aborted when the attempt times out or the exporter shuts down. */
  signal: AbortSignal;
}

/** What an exporter implements. */
export interface Pusher {
  start?(host: Host): Promise<void>;
  /** Called after the queue drained. */
  shutdown?(): Promise<void>;
  pushLogs?(p: LogsPayload, ctx: PushContext): Promise<void>;
  pushTraces?(p: TracesPayload, ctx: PushContext): Promise<void>;
  /** Client metadata keys a push reads (e.g. as Kafka headers): `sending_queue.batch` keeps their values apart. */
  readonly metadataKeys?: readonly string[];
}

/** The exporter factory's declaration (component.ts ExporterFactory.reads), for its queue. */
export type ReadsOf<C> = (config: C, signal: Signal) => Reads;

/** A storage extension able to back a persistent queue. */
export interface QueueStorage {
  /**
   * `keepRaw`: items taken are the protobuf bytes written (decoded only if
   * read), in this process as after a replay; else their records (the ones
   * offered, or decoded on replay).
   */
  openQueue(name: string, capacity: number, logger: Logger, opts?: { keepRaw?: boolean }): Promise<BatchQueue>;
}

export function isQueueStorage(c: unknown): c is QueueStorage {
  return typeof (c as QueueStorage | undefined)?.openQueue === 'function';
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(t);
      resolve();
    }, { once: true });
  });

export class ExporterHelper implements Component, LogsConsumer, TracesConsumer {
  private queue: BatchQueue | undefined;
  /** With `sending_queue.batch`: assigns batches to groups, and the complete groups waiting for a consumer. */
  private batcher: QueueBatcher | undefined;
  /** The collect loop, waiting for a consumer to take the group ready before it. */
  private consumerFree: Array<() => void> = [];
  private workers: Promise<void>[] = [];
  private stopping = false;
  private readonly stopController = new AbortController();
  private readonly metrics: ExporterMetrics;
  private readonly log: Logger;
  private failingSince = 0;
  private deadLetter: DeadLetter;
  /** With `sizer: items`: the items the queue holds, against queue_size. */
  private items: ItemCapacity | undefined;
  /** What each signal has in the queue, in the sizer's unit (the queue_size gauges). */
  private readonly queued = { logs: 0, traces: 0 };
  private readonly queueGauges: Partial<Record<Signal, ReturnType<ExporterMetrics['queue']>>> = {};

  constructor(
    private readonly settings: CreateSettings<ExporterHelperConfig>,
    private readonly pusher: Pusher,
    /** What the exporter reads (its factory's declaration); undefined: records. */
    private readonly reads?: ReadsOf<never>,
  ) {
    this.metrics = exporterMetrics(settings.metrics, settings.id);
    this.log = settings.logger;
    // Every attempt in flight (one per queue consumer) listens for shutdown.
    setMaxListeners(0, this.stopController.signal);
    this.deadLetter = new DeadLetter(null, settings.id, settings.metrics, this.log);
  }

  async start(host: Host): Promise<void> {
    await this.pusher.start?.(host);
    const q = this.settings.config.sending_queue;
    if (!q.enabled) return;
    if (q.sizer === 'items') this.items = new ItemCapacity(q.queue_size);
    // Counting items, the queue itself holds any number of batches.
    const batches = this.items ? Number.POSITIVE_INFINITY : q.queue_size;
    if (q.storage) {
      const ext = host.getExtension(q.storage);
      if (!isQueueStorage(ext)) throw new Error(`sending_queue.storage: extension "${q.storage}" is not a started storage extension`);
      this.queue = await ext.openQueue(this.settings.id, batches, this.log, { keepRaw: this.readsBytes() });
      const dir = (ext as { directory?: unknown }).directory;
      if (typeof dir === 'string') {
        this.deadLetter = new DeadLetter(join(dir, 'dead_letter', this.settings.id.replace(/[^\w.-]/g, '_')), this.settings.id, this.settings.metrics, this.log);
      }
    } else {
      this.queue = new MemoryQueue(batches);
    }
    if (q.batch) {
      const groups = new MemoryQueue(Number.POSITIVE_INFINITY);
      // A group completing after the queue closed (a batch still being written at
      // shutdown) is refused here; a persistent queue still holds its batches.
      this.batcher = new QueueBatcher(q.batch, (g) => void groups.offer(g).catch(() => undefined), this.pusher.metadataKeys);
      this.workers.push(this.collect(this.queue, this.batcher, groups));
      for (let i = 0; i < q.num_consumers; i++) this.workers.push(this.work(groups));
    } else {
      for (let i = 0; i < q.num_consumers; i++) this.workers.push(this.work(this.queue));
    }
  }

  /** Whether the exporter works from bytes for a signal it exports: then its persistent queue hands it the bytes it wrote. */
  private readsBytes(): boolean {
    const reads = this.reads as ReadsOf<unknown> | undefined;
    if (!reads) return false;
    const config = this.settings.config;
    return (!!this.pusher.pushLogs && reads(config, 'logs') === 'bytes') || (!!this.pusher.pushTraces && reads(config, 'traces') === 'bytes');
  }

  consumeLogs(p: LogsPayload): Promise<void> {
    return this.consume(p);
  }

  consumeTraces(p: TracesPayload): Promise<void> {
    return this.consume(p);
  }

  private async consume(data: AnyPayload): Promise<void> {
    const signal: Signal = data.signal;
    const count = data.count;
    if (count === 0) return;
    const m = this.metrics[signal];
    if (this.stopping) {
      m.enqueueFailed.add(count);
      throw new RefusedError(`exporter ${this.settings.id} is shutting down`, 'shutting_down');
    }
    const item: QueueItem = { signal, data, count, dedupToken: data.dedupToken ?? randomUUID() };
    if (!this.queue) return this.send(item);
    try {
      this.items?.reserve(count);
    } catch (err) {
      m.enqueueFailed.add(count);
      throw err;
    }
    // Counted in before the offer: a waiting consumer may take it before the offer returns.
    this.queueMoved(item, 1);
    const group = this.batcher?.assign(item);
    try {
      await this.queue.offer(item);
    } catch (err) {
      if (group) this.batcher!.refused(group);
      this.queueMoved(item, -1);
      m.enqueueFailed.add(count);
      throw err;
    }
  }

  /**
   * A batch entered (+1) or left (-1) the queue: the signal's queue_size
   * gauge, in the sizer's unit. A batch a persistent queue replayed was never
   * counted in, so a count never goes below zero.
   */
  private queueMoved(item: QueueItem, dir: 1 | -1): void {
    const s = item.signal;
    const units = this.items ? item.count : 1;
    if (dir < 0) this.items?.release(item.count);
    this.queued[s] = Math.max(0, this.queued[s] + dir * units);
    let g = this.queueGauges[s];
    if (!g) {
      g = this.queueGauges[s] = this.metrics.queue(s);
      g.capacity.set(this.settings.config.sending_queue.queue_size);
    }
    g.size.set(this.queued[s]);
  }

  /**
   * With `sending_queue.batch`: takes batches from the queue into their
   * groups; complete groups (and groups a persistent queue replayed whole)
   * go to `groups` for the consumers.
   */
  private async collect(q: BatchQueue, batcher: QueueBatcher, groups: MemoryQueue): Promise<void> {
    const persistent = !!this.settings.config.sending_queue.storage;
    for (;;) {
      // While a complete group waits for a consumer, batches stay in the queue:
      // its capacity, not this process's memory, absorbs a slow downstream.
      while (groups.size > 0 && !this.stopping) await new Promise<void>((r) => this.consumerFree.push(r));
      if (this.stopping && persistent) break;
      if (!(await this.collectOne(q, batcher, groups))) break;
    }
    batcher.closeAll();
    groups.close();
  }

  /** Takes one batch into its group (its own call: see workOne). False once the queue closed. */
  private async collectOne(q: BatchQueue, batcher: QueueBatcher, groups: MemoryQueue): Promise<boolean> {
    const item = await q.take();
    if (!item) return false;
    this.queueMoved(item, -1);
    if (!batcher.taken(item)) void groups.offer(item);
    return true;
  }

  /** Wakes the collect loop (a consumer took a group, or shutdown began). */
  private wakeCollector(): void {
    for (const r of this.consumerFree.splice(0)) r();
  }

  private async work(q: BatchQueue): Promise<void> {
    while (await this.workOne(q));
  }

  /**
   * Takes one batch and sends it; false when the consumer should stop. Its
   * own call, so a consumer waiting for the next batch holds nothing of the
   * last: a loop variable would keep the last batch (its records, decoded
   * by the stages behind) alive in the suspended function until the next
   * one arrives, for every idle consumer (64 of them behind the spool).
   */
  private async workOne(q: BatchQueue): Promise<boolean> {
    const persistent = !!this.settings.config.sending_queue.storage;
    // A persistent queue keeps what is left for the next start instead of
    // draining at shutdown: the stages behind it may already be stopping.
    if (this.stopping && persistent) return false;
    const item = await q.take();
    if (q !== this.queue) this.wakeCollector();
    if (!item) return false;
    // A group completed during shutdown stays in the persistent queue, as it is.
    if (this.stopping && persistent) {
      await this.ack(item, false);
      return false;
    }
    if (q === this.queue) this.queueMoved(item, -1);
    try {
      await this.send(item);
      await this.ack(item, true);
    } catch (err) {
      // On shutdown, a persistent queue keeps a batch that failed for now for the next start.
      const keep = this.stopping && !cannotSucceed(err);
      if (!keep) await this.giveUp(item, err);
      await this.ack(item, !keep);
    }
    return true;
  }

  /**
   * A batch that failed for good. Data that can never be sent is dead-lettered;
   * a group is first tried member by member, so only the members that fail alone
   * are. Exhausted retries of a transient failure drop the batch (and say so).
   */
  private async giveUp(item: GroupItem, err: unknown): Promise<void> {
    if (!cannotSucceed(err)) {
      this.log.error('dropping batch after failed export', { signal: item.signal, items: item.count, error: err });
      return;
    }
    if (!item.members || item.members.length < 2) return this.deadLetter.keep(item, err);
    for (const m of item.members) {
      try {
        await this.send(m);
      } catch (e) {
        if (cannotSucceed(e)) await this.deadLetter.keep(m, e);
        else this.log.error('dropping batch after failed export', { signal: m.signal, items: m.count, error: e });
      }
    }
  }

  /** Acknowledges a batch to the queue; a group's members last to first (see file-queue.ts). */
  private async ack(item: GroupItem, done: boolean): Promise<void> {
    const q = this.queue!;
    if (!item.members) return q.ack(item, done);
    for (let i = item.members.length - 1; i >= 0; i--) await q.ack(item.members[i]!, done);
  }

  /** One batch through retry/backoff; resolves on success, throws when giving up. */
  private async send(item: QueueItem): Promise<void> {
    const cfg = this.settings.config;
    const retry = cfg.retry_on_failure;
    const push = item.signal === 'logs' ? this.pusher.pushLogs : this.pusher.pushTraces;
    if (!push) throw new PermanentError(`exporter ${this.settings.id} does not export ${item.signal}`);
    const m = this.metrics[item.signal];
    const began = Date.now();
    let interval = retry.initial_interval;
    for (let attempt = 1; ; attempt++) {
      const ac = new AbortController();
      const onStop = () => ac.abort(new Error('exporter shutting down'));
      this.stopController.signal.addEventListener('abort', onStop, { once: true });
      const timer = cfg.timeout > 0 ? setTimeout(() => ac.abort(new Error(`export timed out after ${cfg.timeout}ms`)), cfg.timeout) : undefined;
      try {
        await push.call(this.pusher, item.data as never, { dedupToken: item.dedupToken, attempt, signal: ac.signal });
        m.sent.add(item.count);
        if (this.failingSince) {
          this.log.info('export recovered', { after_ms: Date.now() - this.failingSince });
          this.failingSince = 0;
        }
        return;
      } catch (err) {
        m.sendFailed.add(item.count);
        const permanent = cannotSucceed(err);
        const elapsed = Date.now() - began;
        // Downstream already stopped during our own shutdown: retrying cannot help.
        const downstreamStopped = this.stopping && err instanceof RefusedError && err.reason === 'shutting_down';
        const giveUp =
          permanent ||
          downstreamStopped ||
          !retry.enabled ||
          this.stopController.signal.aborted ||
          (retry.max_elapsed_time > 0 && elapsed + interval > retry.max_elapsed_time);
        if (!this.failingSince && !permanent) {
          this.failingSince = Date.now();
          this.log.warn('export failed, retrying with backoff', { signal: item.signal, error: err });
        }
        if (giveUp) throw err;
        const jitter = interval * (1 + retry.randomization_factor * (2 * Math.random() - 1));
        // A peer that said when to come back (Retry-After) is waited for, even past max_interval.
        const throttle = err instanceof ThrottledError ? err.retryAfterMs : 0;
        await sleep(Math.max(Math.min(jitter, retry.max_interval), throttle), this.stopController.signal);
        interval = Math.min(interval * retry.multiplier, retry.max_interval);
      } finally {
        if (timer) clearTimeout(timer);
        this.stopController.signal.removeEventListener('abort', onStop);
      }
    }
  }

  /** Stops accepting, drains the queue (retrying until `drain_timeout`), then closes the exporter. */
  readonly shutdown = once(async () => {
    this.stopping = true;
    this.wakeCollector();
    if (this.queue) {
      this.queue.close();
      const drained = Promise.all(this.workers);
      const grace = Math.max(this.settings.config.timeout * 2, 10_000);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        drained.then(() => false),
        new Promise<boolean>((r) => (timer = setTimeout(() => r(true), grace))),
      ]);
      clearTimeout(timer);
      if (timedOut) {
        this.stopController.abort();
        await drained;
      }
      await this.queue.dispose?.();
    } else {
      this.stopController.abort();
    }
    await this.pusher.shutdown?.();
  });
}

export function createExporter<C extends ExporterHelperConfig>(settings: CreateSettings<C>, pusher: Pusher, reads?: ReadsOf<C>): ExporterHelper {
  return new ExporterHelper(settings, pusher, reads as ReadsOf<never> | undefined);
}
