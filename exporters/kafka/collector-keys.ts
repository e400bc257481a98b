/**
 * The Collector's kafka exporter keys (contrib 0.165) this exporter does not
 * offer, each refused with why and what to use instead (or accepted where the
 * value asks for what it does anyway), and `record_headers` in both the
 * Collector's forms.
 */
import { s, type Schema } from '../../core/config/schema.ts';

/** The Collector's `signal_header` name: which signal a message carries, for topics shared by signals. */
export const SIGNAL_HEADER = 'otelcol.signal';

const NO_METRICS = 'trailhouse has no metrics or profiles pipelines: the exporter writes logs and traces only; remove the key';

export const collectorExporterFields: Record<string, Schema> = {
  topic_from_attribute: s.refused(
    'not supported: a batch goes to its signal\'s topic (split by partition, never by resource); route with the routing connector to two kafka exporters instead',
    (v) => v === '',
  ),
  partition_logs_by_resource_attributes: s.refused(
    'not supported: logs are partitioned by trace id (partition_logs_by_trace_id), so a trace\'s logs meet its spans; remove the key or set false',
    (v) => v === false || v === 'false',
  ),
  partition_metrics_by_resource_attributes: s.refused(NO_METRICS, (v) => v === false || v === 'false'),
  metrics: s.refused(NO_METRICS),
  profiles: s.refused(NO_METRICS),
};

/** Per-signal keys (`logs`, `traces`) of the Collector's beyond `topic` and `encoding`. */
export const collectorSignalFields: Record<string, Schema> = {
  topic_from_metadata_key: s.refused(
    'not supported: a signal is written to its one topic; route by client metadata with the routing connector to two kafka exporters instead',
    (v) => v === '',
  ),
  message_key_from_metadata_key: s.refused(
    'not supported: message keys are the trace id (partition_*_by_*) or none; remove the key',
    (v) => v === '',
  ),
};

/** `producer` keys of the Collector's this exporter does not offer. */
export const collectorProducerFields: Record<string, Schema> = {
  compression_params: s.object({
    level: s.refused(
      'not configurable here: kafkajs registers one codec per compression type for the whole process, at its default level; only -1 (the default) is accepted',
      (v) => v === -1 || v === '-1',
    ),
  }),
  max_broker_write_bytes: s.refused(
    'not configurable here: each request carries at most max_message_bytes per partition and is cut by max_message_bytes overall; remove the key',
  ),
  max_inflight_requests_per_broker: s.refused(
    'only 1 is accepted: requests go out one at a time (the idempotent producer numbers them per partition), and what arrives meanwhile joins the next',
    (v) => v === 1 || v === '1',
  ),
};

/** `record_partitioner` strategies of the Collector's besides `sticky_key`. */
export const collectorPartitionerFields: Record<string, Schema> = {
  round_robin: s.refused('not offered: only sticky_key keeps a trace\'s spans and logs in one partition number (co-partitioning); use sticky_key'),
  least_backup: s.refused('not offered: only sticky_key keeps a trace\'s spans and logs in one partition number (co-partitioning); use sticky_key'),
  extension: s.refused('not offered: only sticky_key keeps a trace\'s spans and logs in one partition number (co-partitioning); use sticky_key'),
};

export interface RecordHeader {
  name: string;
  value: string;
}

/**
 * `record_headers` as the Collector 0.165 writes it, a list of
 * `{name, value}` (a name may repeat), or as a mapping (its README's and
 * older configs' form).
 */
export const recordHeadersSchema: Schema = s.listOrMap(
  s.list(s.object({ name: s.string({ nonEmpty: true }), value: s.string() })),
  s.map(s.string()),
);

/** Static headers by name; a name given more than once keeps every value, in order. */
export function staticHeaders(h: readonly RecordHeader[] | Readonly<Record<string, string>>): Record<string, string | string[]> {
  if (!Array.isArray(h)) return { ...(h as Record<string, string>) };
  const out: Record<string, string | string[]> = {};
  for (const { name, value } of h as readonly RecordHeader[]) {
    const had = out[name];
    out[name] = had === undefined ? value : [...(typeof had === 'string' ? [had] : had), value];
  }
  return out;
}
