/**
 * The kafka exporter's config, shaped like the Collector's kafka exporter
 * (contrib 0.165) so a Collector pipeline.yaml section carries over:
 * `brokers`, `client_id`, `logs`/`traces` `{topic, encoding}`, `partition_*`,
 * `record_partitioner`, `producer`, `record_headers`, `signal_header`,
 * `include_metadata_keys`, `tls`, `auth`, plus the exporter helper's
 * `timeout`, `retry_on_failure`, `sending_queue`. Its other keys are refused
 * with the reason (collector-keys.ts).
 */
import { s, type ConfigError } from '../../core/config/schema.ts';
import { helperDefaults, helperSchemaFields, type ExporterHelperConfig } from '../../core/exporter-helper-config.ts';
import { MESSAGE_ID_HEADER } from '../../lib/kafka/messages.ts';
import { COMPRESSIONS, zstdWritable, type Compression } from '../../lib/kafka/codecs.ts';
import { HASHERS, type Hasher } from './partitions.ts';
import { clientDefaults, clientSchemaFields, validateClient, type ClientConfig } from '../../lib/kafka/client.ts';
import { ENCODINGS, type Encoding } from '../../lib/kafka/encoding.ts';
import {
  collectorExporterFields,
  collectorPartitionerFields,
  collectorProducerFields,
  collectorSignalFields,
  recordHeadersSchema,
  SIGNAL_HEADER,
  staticHeaders,
  type RecordHeader,
} from './collector-keys.ts';


export interface TopicConfig {
  topic: string;
  /** Overrides the top-level `encoding` for this signal; null = inherit. */
  encoding: Encoding | null;
}

export interface ProducerConfig {
  /** -1 (all in-sync replicas, default; enables the idempotent producer), 1 (leader) or 0 (none). */
  required_acks: number;
  /** none (default), gzip, snappy, lz4 or zstd (writing zstd needs Node.js >= 22.15). */
  compression: Compression;
  /** Largest message (and produce batch per partition) we send, in bytes. Default 1000000, the broker's default message.max.bytes. */
  max_message_bytes: number;
  /** Let the broker create a topic on first use (when it allows it). Default true. */
  allow_auto_topic_creation: boolean;
  /** How long a request waits for more batches to join it before it is sent (ms). Default 0: at once (batches arriving while one is in flight join the next anyway). */
  linger: number;
  /** Most messages in one produce request (batches are never split for it). Default 10000, the Collector's. */
  flush_max_messages: number;
}

export interface KafkaExporterConfig extends ExporterHelperConfig, ClientConfig {
  /** Default otlp_proto: the OTLP Export*ServiceRequest protobuf bytes, as the Collector writes them. */
  encoding: Encoding;
  /** Default topic otlp_logs. */
  logs: TopicConfig;
  /** Default topic otlp_spans. */
  traces: TopicConfig;
  /** One message per trace, keyed by the 32-char hex trace id. Default false. */
  partition_traces_by_id: boolean;
  /** One message per trace id of the log records, keyed by it. Default false. */
  partition_logs_by_trace_id: boolean;
  /**
   * Where a trace's messages go (with `partition_*`): the Collector's
   * `record_partitioner`; only `sticky_key` is offered, its `hasher`
   * `sarama_compat` (default, as the Collector's) or `murmur2` (the Java client's).
   */
  record_partitioner: { sticky_key: { hasher: Hasher } };
  producer: ProducerConfig;
  /** Static headers on every message (the Collector's `record_headers`): a list of {name, value}, or a mapping. */
  record_headers: RecordHeader[] | Record<string, string>;
  /** Every message gets the header `otelcol.signal: logs|traces` (the Collector's `signal_header`). Default false. */
  signal_header: boolean;
  /** Client metadata keys (core/client.ts) sent as headers of the payload's messages (the Collector's `include_metadata_keys`). */
  include_metadata_keys: string[];
}

export function defaultKafkaExporterConfig(): KafkaExporterConfig {
  return {
    // Kafka is the durable buffer: a batch is retried until it is written
    // (max_elapsed_time 0), and a long outage turns into backpressure once
    // the queue is full rather than into dropped batches.
    ...helperDefaults({ timeout: 30_000, retry: { initial_interval: 1_000, max_elapsed_time: 0 } }),
    brokers: ['127.0.0.1:9092'],
    client_id: 'trailhouse',
    ...clientDefaults(),
    encoding: 'otlp_proto',
    logs: { topic: 'otlp_logs', encoding: null },
    traces: { topic: 'otlp_spans', encoding: null },
    partition_traces_by_id: false,
    partition_logs_by_trace_id: false,
    record_partitioner: { sticky_key: { hasher: 'sarama_compat' } },
    producer: { required_acks: -1, compression: 'none', max_message_bytes: 1_000_000, allow_auto_topic_creation: true, linger: 0, flush_max_messages: 10_000 },
    record_headers: {},
    signal_header: false,
    include_metadata_keys: [],
  };
}

const topicSchema = s.object({
  topic: s.string({ nonEmpty: true }),
  encoding: s.optional(s.string({ enum: ENCODINGS })),
  ...collectorSignalFields,
});

export const kafkaExporterSchema = s.object({
  ...helperSchemaFields,
  ...clientSchemaFields,
  encoding: s.string({ enum: ENCODINGS }),
  logs: topicSchema,
  traces: topicSchema,
  partition_traces_by_id: s.bool(),
  partition_logs_by_trace_id: s.bool(),
  record_partitioner: s.object({ sticky_key: s.object({ hasher: s.string({ enum: HASHERS }) }), ...collectorPartitionerFields }),
  producer: s.object({
    // `all` is -1, as the Collector and Kafka's own producer config spell it.
    required_acks: s.int({ min: -1, max: 1, aliases: { all: -1 } }),
    compression: s.string({ enum: COMPRESSIONS }),
    max_message_bytes: s.bytes(),
    allow_auto_topic_creation: s.bool(),
    linger: s.duration(),
    flush_max_messages: s.int({ min: 1 }),
    ...collectorProducerFields,
  }),
  record_headers: recordHeadersSchema,
  signal_header: s.bool(),
  include_metadata_keys: s.list(s.string({ nonEmpty: true })),
  ...collectorExporterFields,
});

export function validateKafkaExporter(c: KafkaExporterConfig): ConfigError[] {
  const errors = validateClient(c);
  if (c.producer.compression === 'zstd' && !zstdWritable) {
    errors.push({ path: 'producer.compression', message: `zstd needs Node.js >= 22.15 (zlib's zstd), this is ${process.version}; use lz4, snappy or gzip` });
  }
  const reserved = (k: string) =>
    k.toLowerCase() === MESSAGE_ID_HEADER
      ? 'is the header the exporter names each message with; choose another'
      : c.signal_header && k === SIGNAL_HEADER
        ? 'is reserved when signal_header is enabled (the Collector refuses it too)'
        : null;
  for (const k of Object.keys(staticHeaders(c.record_headers))) {
    const why = reserved(k);
    if (why) errors.push({ path: `record_headers.${k}`, message: why });
  }
  c.include_metadata_keys.forEach((k, i) => {
    const why = reserved(k);
    if (why) errors.push({ path: `include_metadata_keys[${i}]`, message: why });
  });
  if (c.producer.max_message_bytes < 1024) {
    errors.push({ path: 'producer.max_message_bytes', message: `must be at least 1024, got ${c.producer.max_message_bytes}` });
  }
  return errors;
}

export function encodingFor(c: KafkaExporterConfig, signal: 'logs' | 'traces'): Encoding {
  return c[signal].encoding ?? c.encoding;
}
