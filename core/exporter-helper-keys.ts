/**
 * The Collector's exporter helper keys (core 0.165 `exporterhelper`) beyond
 * what core/exporter-helper.ts implements: honoured (`sizer`,
 * `randomization_factor`, `batch.partition.metadata_keys`) or accepted only
 * with the value that asks for what the helper does, and refused with why
 * otherwise, so a Collector exporter section carries over or fails on the key.
 */
import { s, type Schema } from './config/schema.ts';

const NO_CACHE = 'not configurable here: an open group per signal and partition-key values, each closed by flush_timeout or min_size, so no cache of groups to size; remove the key';

const isFalse = (v: unknown) => v === false || v === 'false';

export const collectorQueueFields: { queue: Record<string, Schema>; batch: Record<string, Schema> } = {
  queue: {
    sizer: s.refused(
      'expected requests or items: queue_size counts batches (requests, the default) or spans and log records (items); bytes is not offered (a batch\'s encoded size is not known when it is queued)',
      (v) => v === 'requests' || v === 'items',
    ),
    block_on_overflow: s.refused(
      'only false is accepted: a full queue answers the sender at once with 429 / RESOURCE_EXHAUSTED and Retry-After, which its retry honours, rather than holding the request open',
      isFalse,
    ),
    wait_for_result: s.refused(
      'only false is accepted: a queued batch is answered once it is in the queue (durably with storage); to answer after the export, set sending_queue.enabled: false',
      isFalse,
    ),
  },
  batch: {
    sizer: s.refused(
      'only items is accepted: a group closes on its count of spans and log records; bytes is not offered (a batch\'s encoded size is not known when it is grouped)',
      (v) => v === 'items',
    ),
    // Batches whose values of these client metadata keys differ never share a group (core/queue/batching.ts).
    partition: s.section(
      s.object({
        metadata_keys: s.list(s.string({ nonEmpty: true })),
        cache_size: s.refused(NO_CACHE),
        idle_timeout: s.refused(NO_CACHE),
      }),
      () => ({ metadata_keys: [] }),
    ),
  },
};

export const collectorRetryFields: Record<string, Schema> = {
  randomization_factor: s.number({ min: 0, max: 1 }),
};
