/**
 * The batch processor: gathers payloads until `send_batch_size` items or
 * `timeout`, then sends them on as one (split at `send_batch_max_size`).
 *
 * Unlike the Collector's fire-and-forget batch processor, a consume call here
 * settles only when the batch holding its data was accepted downstream, so
 * backpressure and errors still reach the sender. The price is latency up to
 * `timeout`, which is what batching trades anyway.
 */
import type { Component, CreateSettings, LogsConsumer, NextConsumers, TracesConsumer } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { metadataValues, type ClientInfo } from '../../core/client.ts';
import { PermanentError, RefusedError } from '../../core/errors.ts';
import { cannotSucceed } from '../../core/dead-letter.ts';
import type { Signal } from '../../core/model.ts';
import { Payload, type LogsPayload, type RecordsOf, type TracesPayload } from '../../core/payload.ts';
import { concatPayloads, splitLogs, splitTraces } from '../../core/split.ts';
import type { BatchConfig } from './config.ts';

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

/**
 * Poison isolation: when a batch of several senders' payloads fails with an
 * error that sending it again cannot cure (core/dead-letter.ts cannotSucceed:
 * a PermanentError, or a stage throwing TypeError/RangeError on a record), the
 * payloads are sent again one by one, so each sender gets its own outcome and
 * only the one whose payload fails alone gets the error, as a PermanentError
 * (400 / INVALID_ARGUMENT), never a retryable one.
 */
function asPermanent(err: unknown): unknown {
  if (err instanceof PermanentError || !cannotSucceed(err)) return err;
  return new PermanentError(`this request cannot be processed: ${(err as Error).message}`, { cause: err });
}

class Batcher<D extends Payload> {
  private items: D[] = [];
  private counts: number[] = [];
  private count = 0;
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inflight = new Set<Promise<void>>();

  constructor(
    private readonly cfg: BatchConfig,
    private readonly send: (items: D[], count: number) => Promise<void>,
  ) {}

  add(data: D, count: number): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.items.push(data);
      this.counts.push(count);
      this.count += count;
      this.waiters.push({ resolve, reject });
      if (this.count >= this.cfg.send_batch_size) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.cfg.timeout);
    });
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.count === 0) return;
    const { items, counts, count, waiters } = this;
    this.items = [];
    this.counts = [];
    this.count = 0;
    this.waiters = [];
    const p = this.send(items, count).then(
      () => waiters.forEach((w) => w.resolve()),
      (err: unknown) => this.isolate(items, counts, count, waiters, err),
    );
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  /** See asPermanent. Only a batch that went whole is retried by parts: of a split one, some pieces may have been taken. */
  private async isolate(items: D[], counts: number[], count: number, waiters: Waiter[], err: unknown): Promise<void> {
    const max = this.cfg.send_batch_max_size;
    const whole = max <= 0 || count <= max;
    if (!cannotSucceed(err) || !whole) {
      waiters.forEach((w) => w.reject(err));
      return;
    }
    if (items.length === 1) {
      waiters[0]!.reject(asPermanent(err));
      return;
    }
    await Promise.all(items.map((item, i) => this.send([item], counts[i]!).then(
      () => waiters[i]!.resolve(),
      (e: unknown) => waiters[i]!.reject(asPermanent(e)),
    )));
  }

  async drain(): Promise<void> {
    this.flush();
    await Promise.allSettled([...this.inflight]);
  }
}

export class BatchProcessor implements Component, LogsConsumer, TracesConsumer {
  /** Batchers by metadata-value combination ('' without metadata_keys). */
  private readonly logs = new Map<string, Batcher<LogsPayload>>();
  private readonly traces = new Map<string, Batcher<TracesPayload>>();
  private readonly keys: string[];
  private stopped = false;

  constructor(
    private readonly settings: CreateSettings<BatchConfig>,
    private readonly next: NextConsumers,
  ) {
    this.keys = settings.config.metadata_keys.map((k) => k.toLowerCase());
  }

  async start(): Promise<void> {}

  /** The batch key of a payload, and the client info its batch carries on (only the metadata keys). */
  private group(data: Payload): { key: string; client: ClientInfo | undefined } {
    if (this.keys.length === 0) return { key: '', client: undefined };
    const info = data.client;
    const metadata = new Map<string, string[]>();
    for (const k of this.keys) {
      const v = metadataValues(info, k);
      if (v.length) metadata.set(k, [...v]);
    }
    return { key: JSON.stringify(this.keys.map((k) => metadata.get(k) ?? [])), client: { address: '', metadata } };
  }

  private batcher<D extends Payload>(map: Map<string, Batcher<D>>, key: string, make: () => Batcher<D>): Batcher<D> {
    let b = map.get(key);
    if (!b) {
      const limit = this.settings.config.metadata_cardinality_limit;
      if (this.keys.length > 0 && limit > 0 && map.size >= limit) {
        throw new PermanentError(`too many batcher metadata-value combinations (metadata_cardinality_limit ${limit})`);
      }
      map.set(key, (b = make()));
    }
    return b;
  }

  private logsBatcher(client: ClientInfo | undefined): Batcher<LogsPayload> {
    return this.newBatcher<'logs'>('logs', client, splitLogs, (d) => this.next.logs!.consumeLogs(d));
  }

  private tracesBatcher(client: ClientInfo | undefined): Batcher<TracesPayload> {
    return this.newBatcher<'traces'>('traces', client, splitTraces, (d) => this.next.traces!.consumeTraces(d));
  }

  /**
   * A batch sent whole keeps its items' raw bytes; split pieces lose them.
   * Items not decoded yet (core/payload.ts, bytes) stay so when the batch
   * goes whole: the batch is their bytes, concatenated (core/split.ts).
   */
  private newBatcher<S extends Signal>(
    signal: S,
    client: ClientInfo | undefined,
    split: (data: RecordsOf<S>, max: number) => RecordsOf<S>[],
    send: (data: Payload<S>) => Promise<void>,
  ): Batcher<Payload<S>> {
    const max = this.settings.config.send_batch_max_size;
    return new Batcher<Payload<S>>(this.settings.config, async (items, count) => {
      const whole = max <= 0 || count <= max;
      const data = concatPayloads(signal, items, count, client);
      const chunks = whole ? [data] : split(data.records(), max).map((d) => Payload.ofRecords(signal, d, client));
      await Promise.all(chunks.map(send));
    });
  }

  consumeLogs(data: LogsPayload): Promise<void> {
    if (this.stopped) return Promise.reject(new RefusedError('batch processor is shut down', 'shutting_down'));
    const n = data.count;
    if (n === 0) return Promise.resolve();
    try {
      const { key, client } = this.group(data);
      return this.batcher(this.logs, key, () => this.logsBatcher(client)).add(data, n);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  consumeTraces(data: TracesPayload): Promise<void> {
    if (this.stopped) return Promise.reject(new RefusedError('batch processor is shut down', 'shutting_down'));
    const n = data.count;
    if (n === 0) return Promise.resolve();
    try {
      const { key, client } = this.group(data);
      return this.batcher(this.traces, key, () => this.tracesBatcher(client)).add(data, n);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Sends whatever is pending and waits for it. */
  readonly shutdown = once(async () => {
    this.stopped = true;
    await Promise.all([...this.logs.values(), ...this.traces.values()].map((b) => b.drain()));
  });
}
