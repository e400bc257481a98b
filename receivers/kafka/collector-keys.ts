/**
 * The Collector's kafka receiver keys (contrib 0.165) whose behaviour is
 * fixed here, each refused with why (or accepted where the value asks for
 * what this receiver does anyway), and the reading of its `topics` lists.
 */
import { s, type ConfigError, type Schema } from '../../core/config/schema.ts';

/** Why offsets, marking and partition work are not configurable: the delivery rules in README.md. */
const DELIVERY = 'offsets are committed only after the pipeline behind the receiver stored the records, and a batch it refuses is retried, never marked (at-least-once; see receivers/kafka/README.md)';

/**
 * `message_marking` as this receiver behaves: marked after the pipeline
 * (`after: true`), a refused batch never (`on_error: false`), a permanently
 * refused one committed past (`on_permanent_error: true`).
 */
const OUR_MARKING: Record<string, boolean> = { after: true, on_error: false, on_permanent_error: true };

function marksAsWeDo(v: unknown): boolean {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  return Object.entries(v).every(([k, x]) => OUR_MARKING[k] === x);
}

export const collectorConsumerFields: Record<string, Schema> = {
  autocommit: s.refused(`not configurable here: ${DELIVERY}. Remove the key`),
  message_marking: s.refused(
    `not configurable here: ${DELIVERY}; only {after: true, on_error: false, on_permanent_error: true}, what the receiver does, is accepted. Remove the key`,
    marksAsWeDo,
  ),
  partition_processing: s.refused(
    'not configurable here: every assigned partition is already worked on by itself, with up to max_inflight_batches batches in the pipeline at once; use max_inflight_batches',
  ),
  group_rebalance_strategies: s.refused(
    'not configurable here: the group uses the TrailhouseCoPartitioned assignor, so partition p of the logs and spans topics meet in one ingester (see README.md); remove the key',
  ),
  group_rebalance_strategy: s.refused(
    'not configurable here: the group uses the TrailhouseCoPartitioned assignor, so partition p of the logs and spans topics meet in one ingester (see README.md); remove the key',
  ),
  group_instance_id: s.refused('not supported: kafkajs has no static group membership (KIP-345); remove the key'),
  max_decompress_batch_bytes: s.refused(
    'not enforced here: a record batch is decompressed whole; bound what is read with max_partition_fetch_size (default_fetch_size) and max_fetch_size',
  ),
  metrics: s.refused('trailhouse has no metrics pipelines: the receiver reads logs and traces only; remove the section'),
  profiles: s.refused('trailhouse has no profiles pipelines: the receiver reads logs and traces only; remove the section'),
  telemetry: s.object({
    metrics: s.object({
      kafka_receiver_records_delay: s.refused('not offered: the receiver does not measure the delay between producing and receiving; only enabled: false is accepted', (v) => {
        return typeof v === 'object' && v !== null && (v as { enabled?: unknown }).enabled === false;
      }),
    }),
  }),
};

/** Signal sections: the Collector's `topics` list (0.142+) or its older `topic`, not both. */
export const topicSchema: Schema = s.object({
  topic: s.optional(s.string({ nonEmpty: true })),
  topics: s.optional(s.list(s.string({ nonEmpty: true }))),
  // Checked per signal by validateKafkaReceiver (raw, text, json are logs-only).
  encoding: s.optional(s.string({ nonEmpty: true })),
  exclude_topics: s.refused('not supported: topics are subscribed by name, not by ^pattern, so there is nothing to exclude; list the topics in topics'),
});

export interface TopicsConfig {
  /** The Collector's older single topic; null when `topics` (or the default) applies. */
  topic: string | null;
  /** null = the signal's default topic (or `topic`). */
  topics: string[] | null;
}

/** The topics a signal section names. */
export function topicsOf(t: TopicsConfig, fallback: string): string[] {
  return t.topics ?? (t.topic ? [t.topic] : [fallback]);
}

export function validateTopics(signal: 'logs' | 'traces', t: TopicsConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  if (t.topic && t.topics) errors.push({ path: `${signal}.topic`, message: `set ${signal}.topics or the older ${signal}.topic, not both` });
  if (t.topics && t.topics.length === 0) errors.push({ path: `${signal}.topics`, message: 'must list at least one topic' });
  (t.topics ?? []).forEach((name, i) => {
    if (name.startsWith('^')) {
      errors.push({
        path: `${signal}.topics[${i}]`,
        message: 'regex topics (^pattern) are not supported: kafkajs resolves a pattern once at subscription, so topics created later would silently be missed; list the topics by name',
      });
    }
  });
  return errors;
}
