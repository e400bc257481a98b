/**
 * `sending_queue.sizer`: what `queue_size` counts. `requests` (the default,
 * as the Collector's): batches, which the queue itself counts. `items`: spans
 * and log records, counted here so the memory queue and the persistent one
 * (extensions/file_storage) share one rule without either knowing it: the
 * helper reserves a batch's items before offering it and releases them when
 * the batch is taken. A batch larger than the whole capacity is taken only
 * into an empty queue, so it is never refused forever.
 *
 * After a restart, batches a persistent queue replays were never reserved:
 * they are not counted (release never goes below zero), so the queue may
 * briefly hold up to what it held before the restart on top of queue_size.
 */
import { RefusedError } from '../errors.ts';

export type QueueSizer = 'requests' | 'items';

export const QUEUE_SIZERS: readonly QueueSizer[] = ['requests', 'items'];

export class ItemCapacity {
  /** Items reserved by batches offered and not yet taken. */
  used = 0;

  constructor(readonly capacity: number) {}

  /** Reserves room for `items`; throws RefusedError('queue_full') when it does not fit. */
  reserve(items: number): void {
    if (this.used > 0 && this.used + items > this.capacity) throw new RefusedError('sending queue is full', 'queue_full', 1);
    this.used += items;
  }

  release(items: number): void {
    this.used = Math.max(0, this.used - items);
  }
}
