/**
 * The kafka receiver's config, shaped like the Collector's kafka receiver
 * (contrib 0.165: `brokers`, `group_id`, `client_id`, `logs`/`traces`
 * `{topics, encoding}` (or the older `topic`), `initial_offset`,
 * `session_timeout`, `heartbeat_interval`, `min_fetch_size`,
 * `max_fetch_size`, `max_partition_fetch_size`, `max_fetch_wait`,
 * `error_backoff`, `header_extraction`, `tls`, `auth`; its other keys are
 * refused with the reason, collector-keys.ts), plus `max_batch_records`: the
 * receiver forms the batches handed to the pipeline itself, so none is
 * needed behind it.
 */
import { s, type ConfigError } from '../../core/config/schema.ts';
import { clientDefaults, clientSchemaFields, validateClient, type ClientConfig } from '../../lib/kafka/client.ts';
import { ENCODINGS, type Encoding } from '../../lib/kafka/encoding.ts';
import { encodingProblem, type ReceiverEncoding } from './log-encodings.ts';
import { collectorConsumerFields, topicSchema, topicsOf, validateTopics, type TopicsConfig } from './collector-keys.ts';

export interface ReceiverTopicConfig extends TopicsConfig {
  /** Overrides the top-level `encoding`; null = inherit. Logs also take raw, text, text_<charset>, json (log-encodings.ts). */
  encoding: ReceiverEncoding | null;
}

export interface BackoffConfig {
  /** The Collector's `error_backoff.enabled` (false there by default): a refused batch is always retried with backoff here, so only true is accepted. */
  enabled: boolean;
  initial_interval: number;
  max_interval: number;
  multiplier: number;
  /** Each wait is the interval × (1 ± this). Default 0.5, the Collector's. */
  randomization_factor: number;
  /** The Collector's give-up time: only 0 (never) is accepted, since giving up would commit past records never stored. */
  max_elapsed_time: number;
}

export interface KafkaReceiverConfig extends ClientConfig {
  /** Default "trailhouse". */
  group_id: string;
  /** Default otlp_proto. */
  encoding: Encoding;
  /** Default topic otlp_logs. */
  logs: ReceiverTopicConfig;
  /** Default topic otlp_spans. */
  traces: ReceiverTopicConfig;
  /** Where a group without a committed offset starts: latest (default) or earliest. */
  initial_offset: 'latest' | 'earliest';
  /** Default 10s. */
  session_timeout: number;
  /** Default 3s. */
  heartbeat_interval: number;
  /** Broker waits for this many bytes before answering a fetch. Default 1. */
  min_fetch_size: number;
  /** Largest fetch per partition (bytes): the Collector's max_partition_fetch_size (its Sarama-era name default_fetch_size is read too). null = 4MiB. */
  default_fetch_size: number | null;
  max_partition_fetch_size: number | null;
  /** Largest fetch response over all partitions (bytes). Default 0 = 4 × the per-partition size, at least 10MiB. */
  max_fetch_size: number;
  /** Longest the broker waits for min_fetch_size. Default 250ms. */
  max_fetch_wait: number;
  /** Records (log records or spans) per batch handed to the pipeline. Default 10000. */
  max_batch_records: number;
  /**
   * Batches per partition in the pipeline at once (each listed in the
   * committed offset's metadata, so at most ~100). Default 16.
   */
  max_inflight_batches: number;
  /**
   * Messages per partition remembered by id (the kafka exporter's
   * `trailhouse-id` header) to skip a second copy of a batch a gateway sent
   * again after a crash; a restarted ingester first re-reads this many
   * messages before its committed offset. 0 = off. Default 10000.
   */
  dedup_window: number;
  /** Retry of a batch the pipeline refused: the partition pauses this long, growing. */
  error_backoff: BackoffConfig;
  /** Message headers copied to each resource as `kafka.header.<name>` (the Collector's header_extraction). */
  header_extraction: { extract_headers: boolean; headers: string[] };
}

/** Largest fetch per partition, in bytes. */
export function partitionFetchSize(c: KafkaReceiverConfig): number {
  return c.max_partition_fetch_size ?? c.default_fetch_size ?? 4 * 1024 * 1024;
}

/** The topics the receiver reads for a signal. */
export function receiverTopics(c: KafkaReceiverConfig, signal: 'logs' | 'traces'): string[] {
  return topicsOf(c[signal], signal === 'logs' ? 'otlp_logs' : 'otlp_spans');
}

export function defaultKafkaReceiverConfig(): KafkaReceiverConfig {
  return {
    brokers: ['127.0.0.1:9092'],
    group_id: 'trailhouse',
    client_id: 'trailhouse',
    ...clientDefaults(),
    encoding: 'otlp_proto',
    logs: { topic: null, topics: null, encoding: null },
    traces: { topic: null, topics: null, encoding: null },
    initial_offset: 'latest',
    session_timeout: 10_000,
    heartbeat_interval: 3_000,
    min_fetch_size: 1,
    default_fetch_size: null,
    max_partition_fetch_size: null,
    max_fetch_size: 0,
    max_fetch_wait: 250,
    max_batch_records: 50_000,
    max_inflight_batches: 16,
    dedup_window: 10_000,
    error_backoff: { enabled: true, initial_interval: 1_000, max_interval: 30_000, multiplier: 2, randomization_factor: 0.5, max_elapsed_time: 0 },
    header_extraction: { extract_headers: false, headers: [] },
  };
}

export const kafkaReceiverSchema = s.object({
  ...clientSchemaFields,
  group_id: s.string({ nonEmpty: true }),
  encoding: s.string({ enum: ENCODINGS }),
  logs: topicSchema,
  traces: topicSchema,
  initial_offset: s.string({ enum: ['latest', 'earliest'] }),
  session_timeout: s.duration(),
  heartbeat_interval: s.duration(),
  min_fetch_size: s.bytes(),
  default_fetch_size: s.optional(s.bytes()),
  max_partition_fetch_size: s.optional(s.bytes()),
  max_fetch_size: s.bytes(),
  max_fetch_wait: s.duration(),
  max_batch_records: s.int({ min: 1 }),
  max_inflight_batches: s.int({ min: 1, max: 100 }),
  dedup_window: s.int({ min: 0, max: 1_000_000 }),
  error_backoff: s.object({
    enabled: s.bool(),
    initial_interval: s.duration(),
    max_interval: s.duration(),
    multiplier: s.number({ min: 1 }),
    randomization_factor: s.number({ min: 0, max: 1 }),
    max_elapsed_time: s.duration(),
  }),
  header_extraction: s.object({ extract_headers: s.bool(), headers: s.list(s.string({ nonEmpty: true })) }),
  ...collectorConsumerFields,
});

export function validateKafkaReceiver(c: KafkaReceiverConfig): ConfigError[] {
  const errors = validateClient(c);
  if (c.heartbeat_interval >= c.session_timeout) {
    errors.push({ path: 'heartbeat_interval', message: `must be less than session_timeout (${c.session_timeout}ms)` });
  }
  errors.push(...validateTopics('logs', c.logs), ...validateTopics('traces', c.traces));
  for (const signal of ['logs', 'traces'] as const) {
    const e = c[signal].encoding;
    const why = e === null ? undefined : encodingProblem(e, signal);
    if (why) errors.push({ path: `${signal}.encoding`, message: why });
  }
  const logs = new Set(receiverTopics(c, 'logs'));
  for (const t of receiverTopics(c, 'traces')) {
    if (logs.has(t)) errors.push({ path: 'traces.topics', message: `must not name a logs topic ("${t}"): a topic carries one signal here` });
  }
  if (c.default_fetch_size !== null && c.max_partition_fetch_size !== null) {
    errors.push({ path: 'default_fetch_size', message: 'set max_partition_fetch_size (the Collector\'s current name) or default_fetch_size, not both' });
  }
  if (partitionFetchSize(c) < 1024) errors.push({ path: c.max_partition_fetch_size !== null ? 'max_partition_fetch_size' : 'default_fetch_size', message: 'must be at least 1KiB' });
  if (c.max_fetch_size !== 0 && c.max_fetch_size < c.min_fetch_size) {
    errors.push({ path: 'max_fetch_size', message: `must be at least min_fetch_size (${c.min_fetch_size}), or 0` });
  }
  const b = c.error_backoff;
  if (!b.enabled) {
    errors.push({ path: 'error_backoff.enabled', message: 'only true is accepted: a batch the pipeline refused is always retried with backoff while its partition pauses (never skipped); remove the key or set true' });
  }
  if (b.max_elapsed_time !== 0) {
    errors.push({ path: 'error_backoff.max_elapsed_time', message: 'only 0 (retry until stored) is accepted: giving up would commit past records that were never stored' });
  }
  return errors;
}
