/**
 * The sending queue seam and its in-memory implementation. A persistent
 * implementation (file-backed) offers the same interface: `offer` resolves
 * once the batch is durable, `ack(item, done)` removes it (done = true) or
 * leaves it for the next start (done = false).
 */
import { RefusedError } from '../errors.ts';
import type { Signal } from '../model.ts';
import type { AnyPayload } from '../payload.ts';

export interface QueueItem {
  signal: Signal;
  data: AnyPayload;
  count: number;
  dedupToken: string;
  /** Implementation-specific handle (e.g. a file name). */
  ref?: unknown;
}

export interface BatchQueue {
  /** Adds a batch; throws RefusedError('queue_full') when at capacity. */
  offer(item: QueueItem): Promise<void>;
  /** Next batch; waits while empty; undefined once closed and drained. */
  take(): Promise<QueueItem | undefined>;
  ack(item: QueueItem, done: boolean): Promise<void>;
  /** Stops `offer`; `take` drains what is left, then returns undefined. */
  close(): void;
  dispose?(): Promise<void>;
  readonly size: number;
}

export class MemoryQueue implements BatchQueue {
  private readonly items: QueueItem[] = [];
  private head = 0;
  private waiters: Array<(i: QueueItem | undefined) => void> = [];
  private closed = false;

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.items.length - this.head;
  }

  async offer(item: QueueItem): Promise<void> {
    if (this.closed) throw new RefusedError('sending queue is closed', 'shutting_down');
    const w = this.waiters.shift();
    if (w) return w(item);
    if (this.size >= this.capacity) throw new RefusedError('sending queue is full', 'queue_full', 1);
    this.items.push(item);
  }

  take(): Promise<QueueItem | undefined> {
    if (this.size > 0) {
      const item = this.items[this.head++]!;
      if (this.head > 1024 && this.head * 2 > this.items.length) {
        this.items.splice(0, this.head);
        this.head = 0;
      }
      return Promise.resolve(item);
    }
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async ack(): Promise<void> {}

  close(): void {
    this.closed = true;
    // Waiters exist only while the queue is empty: wake them to finish.
    for (const w of this.waiters.splice(0)) w(undefined);
  }
}
