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
import { RefusedError } from '../../core/errors.ts';
import type { LogsData, ResourceLogs, ResourceSpans, TracesData } from '../../core/model.ts';
import { logRecordCount, rawProto, setRawProto, spanCount } from '../../core/model.ts';
import { splitLogs, splitTraces } from '../../core/split.ts';
import type { BatchConfig } from './config.ts';

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

class Batcher<P> {
  private parts: P[] = [];
  private count = 0;
  private waiters: Waiter[] = [];
  /** The parts' raw protobuf bytes while every part brought them (core/model.ts rawProto). */
  private raw: Uint8Array[] | undefined = [];
  private timer: NodeJS.Timeout | undefined;
  private inflight = new Set<Promise<void>>();

  constructor(
    private readonly cfg: BatchConfig,
    private readonly send: (parts: P[], count: number, raw: Uint8Array[] | undefined) => Promise<void>,
  ) {}

  add(parts: P[], count: number, raw: Uint8Array[] | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.parts.push(...parts);
      this.count += count;
      this.raw = raw && this.raw ? (this.raw.push(...raw), this.raw) : undefined;
      this.waiters.push({ resolve, reject });
      if (this.count >= this.cfg.send_batch_size) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.cfg.timeout);
    });
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (this.count === 0) return;
    const { parts, count, waiters, raw } = this;
    this.parts = [];
    this.count = 0;
    this.waiters = [];
    this.raw = [];
    const p = this.send(parts, count, raw).then(
      () => waiters.forEach((w) => w.resolve()),
      (err: unknown) => waiters.forEach((w) => w.reject(err)),
    );
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  async drain(): Promise<void> {
    this.flush();
    await Promise.allSettled([...this.inflight]);
  }
}

export class BatchProcessor implements Component, LogsConsumer, TracesConsumer {
  private readonly logs: Batcher<ResourceLogs>;
  private readonly traces: Batcher<ResourceSpans>;
  private stopped = false;

  constructor(settings: CreateSettings<BatchConfig>, next: NextConsumers) {
    const cfg = settings.config;
    const max = cfg.send_batch_max_size;
    // A batch sent whole keeps its parts' raw bytes; split pieces lose them.
    this.logs = new Batcher<ResourceLogs>(cfg, async (resourceLogs, count, raw) => {
      const data: LogsData = { resourceLogs };
      if (max > 0 && count > max) return void (await Promise.all(splitLogs(data, max).map((c) => next.logs!.consumeLogs(c))));
      if (raw) setRawProto(data, raw);
      await next.logs!.consumeLogs(data);
    });
    this.traces = new Batcher<ResourceSpans>(cfg, async (resourceSpans, count, raw) => {
      const data: TracesData = { resourceSpans };
      if (max > 0 && count > max) return void (await Promise.all(splitTraces(data, max).map((c) => next.traces!.consumeTraces(c))));
      if (raw) setRawProto(data, raw);
      await next.traces!.consumeTraces(data);
    });
  }

  async start(): Promise<void> {}

  consumeLogs(data: LogsData): Promise<void> {
    if (this.stopped) return Promise.reject(new RefusedError('batch processor is shut down', 'shutting_down'));
    const n = logRecordCount(data);
    return n === 0 ? Promise.resolve() : this.logs.add(data.resourceLogs, n, rawProto(data));
  }

  consumeTraces(data: TracesData): Promise<void> {
    if (this.stopped) return Promise.reject(new RefusedError('batch processor is shut down', 'shutting_down'));
    const n = spanCount(data);
    return n === 0 ? Promise.resolve() : this.traces.add(data.resourceSpans, n, rawProto(data));
  }

  /** Sends whatever is pending and waits for it. */
  readonly shutdown = once(async () => {
    this.stopped = true;
    await Promise.all([this.logs.drain(), this.traces.drain()]);
  });
}
