/**
 * The kafka receiver's config, shaped like the Collector's kafka receiver
 * (`brokers`, `group_id`, `client_id`, `logs`/`traces` `{topic, encoding}`,
 * `encoding`, `initial_offset`, `session_timeout`, `heartbeat_interval`,
 * `min_fetch_size`, `default_fetch_size`, `max_fetch_wait`, `error_backoff`,
 * `auth`), plus `max_batch_records`: the receiver forms the batches handed to
 * the pipeline itself, so none is needed behind it.
 */
import { s, type ConfigError } from '../../core/config/schema.ts';
import { clientDefaults, clientSchemaFields, validateClient, type ClientConfig } from '../../lib/kafka/client.ts';
import { ENCODINGS, type Encoding } from '../../lib/kafka/encoding.ts';

export interface ReceiverTopicConfig {
  topic: string;
  /** Overrides the top-level `encoding`; null = inherit. */
  encoding: Encoding | null;
}

export interface BackoffConfig {
  initial_interval: number;
  max_interval: number;
  multiplier: number;
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
  /** Largest fetch per partition (bytes). Default 4MiB. */
  default_fetch_size: number;
  /** Largest fetch response over all partitions (bytes). Default 0 = 4 × default_fetch_size, at least 10MiB. */
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
  /** Collector keys whose behaviour is fixed here (see validate): accepted only to be refused with the reason. */
  autocommit: unknown;
  message_marking: unknown;
}

export function defaultKafkaReceiverConfig(): KafkaReceiverConfig {
  return {
    brokers: ['127.0.0.1:9092'],
    group_id: 'trailhouse',
    client_id: 'trailhouse',
    ...clientDefaults(),
    encoding: 'otlp_proto',
    logs: { topic: 'otlp_logs', encoding: null },
    traces: { topic: 'otlp_spans', encoding: null },
    initial_offset: 'latest',
    session_timeout: 10_000,
    heartbeat_interval: 3_000,
    min_fetch_size: 1,
    default_fetch_size: 4 * 1024 * 1024,
    max_fetch_size: 0,
    max_fetch_wait: 250,
    max_batch_records: 50_000,
    max_inflight_batches: 16,
    dedup_window: 10_000,
    error_backoff: { initial_interval: 1_000, max_interval: 30_000, multiplier: 2 },
    header_extraction: { extract_headers: false, headers: [] },
    autocommit: undefined,
    message_marking: undefined,
  };
}

const topicSchema = s.object({ topic: s.string({ nonEmpty: true }), encoding: s.optional(s.string({ enum: ENCODINGS })) });

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
  default_fetch_size: s.bytes(),
  max_fetch_size: s.bytes(),
  max_fetch_wait: s.duration(),
  max_batch_records: s.int({ min: 1 }),
  max_inflight_batches: s.int({ min: 1, max: 100 }),
  dedup_window: s.int({ min: 0, max: 1_000_000 }),
  error_backoff: s.object({ initial_interval: s.duration(), max_interval: s.duration(), multiplier: s.number({ min: 1 }) }),
  header_extraction: s.object({ extract_headers: s.bool(), headers: s.list(s.string({ nonEmpty: true })) }),
  autocommit: s.any(),
  message_marking: s.any(),
});

export function validateKafkaReceiver(c: KafkaReceiverConfig): ConfigError[] {
  const errors = validateClient(c);
  if (c.heartbeat_interval >= c.session_timeout) {
    errors.push({ path: 'heartbeat_interval', message: `must be less than session_timeout (${c.session_timeout}ms)` });
  }
  if (c.logs.topic === c.traces.topic) {
    errors.push({ path: 'traces.topic', message: `must differ from logs.topic ("${c.logs.topic}")` });
  }
  if (c.default_fetch_size < 1024) errors.push({ path: 'default_fetch_size', message: 'must be at least 1KiB' });
  if (c.max_fetch_size !== 0 && c.max_fetch_size < c.default_fetch_size) {
    errors.push({ path: 'max_fetch_size', message: `must be at least default_fetch_size (${c.default_fetch_size}), or 0` });
  }
  const fixed = 'not configurable here: offsets are committed only after the pipeline behind the receiver stored the records, and a batch it refuses is retried, never marked (at-least-once; see receivers/kafka/README.md). Remove the key';
  if (c.autocommit !== undefined) errors.push({ path: 'autocommit', message: fixed });
  if (c.message_marking !== undefined) errors.push({ path: 'message_marking', message: fixed });
  return errors;
}
