/**
 * The exporter helper's config (core/exporter-helper.ts): timeout, retry
 * with backoff and the sending queue, as the Collector's exporterhelper
 * names them; the keys of its that we refuse or map are in
 * exporter-helper-keys.ts.
 */
import { s, type Schema } from './config/schema.ts';
import { queueBatchDefaults, type QueueBatchConfig } from './queue/batching.ts';
import type { QueueSizer } from './queue/sizer.ts';
import { collectorQueueFields, collectorRetryFields } from './exporter-helper-keys.ts';

export interface RetryConfig {
  enabled: boolean;
  initial_interval: number;
  max_interval: number;
  /** Give up after this long (ms); 0 = retry until shutdown. */
  max_elapsed_time: number;
  multiplier: number;
  /** Each wait is the interval × (1 ± this). Default 0.5, the Collector's. */
  randomization_factor: number;
}

export interface QueueConfig {
  enabled: boolean;
  num_consumers: number;
  /** Capacity, in batches (`sizer: requests`, default; requests, with no batch processor in front) or spans and log records (`sizer: items`). */
  queue_size: number;
  /** What queue_size counts (core/queue/sizer.ts). */
  sizer: QueueSizer;
  /** Id of a storage extension (e.g. `file_storage`) for a persistent queue; null = in memory. */
  storage: string | null;
  /** Batches joined after the queue (core/queue/batching.ts); null = each pushed alone. */
  batch?: QueueBatchConfig | null;
}

export interface ExporterHelperConfig {
  timeout: number;
  retry_on_failure: RetryConfig;
  sending_queue: QueueConfig;
}

export function helperDefaults(overrides: Partial<{ timeout: number; retry: Partial<RetryConfig>; queue: Partial<QueueConfig> }> = {}): ExporterHelperConfig {
  return {
    timeout: overrides.timeout ?? 5_000,
    retry_on_failure: {
      enabled: true,
      initial_interval: 5_000,
      max_interval: 30_000,
      max_elapsed_time: 300_000,
      multiplier: 1.5,
      randomization_factor: 0.5,
      ...overrides.retry,
    },
    sending_queue: { enabled: true, num_consumers: 10, queue_size: 1000, sizer: 'requests', storage: null, ...overrides.queue },
  };
}

/** Schema fields to spread into an exporter's own config schema. */
export const helperSchemaFields: Record<string, Schema> = {
  timeout: s.duration(),
  retry_on_failure: s.object({
    enabled: s.bool(),
    initial_interval: s.duration(),
    max_interval: s.duration(),
    max_elapsed_time: s.duration(),
    multiplier: s.number({ min: 1 }),
    ...collectorRetryFields,
  }),
  sending_queue: s.object({
    enabled: s.bool(),
    num_consumers: s.int({ min: 1, max: 1000 }),
    queue_size: s.int({ min: 1 }),
    storage: s.optional(s.string({ nonEmpty: true })),
    ...collectorQueueFields.queue,
    batch: s.section(
      s.object({
        flush_timeout: s.duration(),
        min_size: s.int({ min: 1 }),
        max_size: s.int({ min: 0 }),
        ...collectorQueueFields.batch,
      }),
      queueBatchDefaults,
    ),
  }),
};
