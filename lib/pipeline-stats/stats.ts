/**
 * `pipeline_stats`: the pipeline's own counters per minute, so the evidence
 * report can state what each receiver accepted and refused and what the
 * pipeline dropped, and which receivers were seen at all (rows do not record
 * the receiver that took them). One row per minute, component and signal
 * with a non-zero change, from the self-metrics registry:
 *
 *   receiver/<id>    Accepted = accepted, Refused = refused (the sender was told)
 *   processor/<id>   Accepted = incoming, Refused = refused
 *   exporter/<id>    Accepted = sent, Refused = enqueue failed, Dropped = send failed
 *   security_events  Dropped = security events not stored (buffer full, rows refused)
 *
 * A processor's incoming minus outgoing is not counted as dropped: items a
 * processor holds (correlate's wait) would show as drops one minute and come
 * back the next.
 *
 * The counts are deltas of monotonic counters between two samples; a minute's
 * row is written once (a failed insert loses that minute's row, and says so
 * in the log: these are statistics, not acknowledged data).
 */
import type { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { ident } from '../clickhouse/schema.ts';
import { quote } from '../retention/render.ts';

export const STATS_TABLE = 'pipeline_stats';

export function statsTableSql(database: string, ttlMs: number): string {
  const ttl = ttlMs > 0 ? `\nTTL Minute + toIntervalSecond(${Math.floor(ttlMs / 1000)})` : '';
  return `CREATE TABLE IF NOT EXISTS ${ident(database)}.${ident(STATS_TABLE)} (
    Minute DateTime CODEC(Delta, ZSTD(1)),
    Component LowCardinality(String),
    Signal LowCardinality(String),
    Accepted UInt64,
    Refused UInt64,
    Dropped UInt64
) ENGINE = MergeTree()
PARTITION BY toYYYYMM(Minute)
ORDER BY (Minute, Component, Signal)${ttl}`;
}

export interface StatsRow {
  /** Seconds since the epoch, the start of the minute. */
  minute: number;
  component: string;
  signal: 'logs' | 'traces';
  accepted: number;
  refused: number;
  dropped: number;
}

type Field = 'accepted' | 'refused' | 'dropped';

/** Which counter feeds which field: [kind, label holding the id, signal (or the label holding it), field]. */
const SOURCES: Readonly<Record<string, readonly [string, string, string, Field]>> = {
  otelcol_receiver_accepted_log_records: ['receiver', 'receiver', 'logs', 'accepted'],
  otelcol_receiver_accepted_spans: ['receiver', 'receiver', 'traces', 'accepted'],
  otelcol_receiver_refused_log_records: ['receiver', 'receiver', 'logs', 'refused'],
  otelcol_receiver_refused_spans: ['receiver', 'receiver', 'traces', 'refused'],
  otelcol_processor_incoming_items: ['processor', 'processor', '@otel_signal', 'accepted'],
  trailhouse_processor_refused_items: ['processor', 'processor', '@otel_signal', 'refused'],
  otelcol_exporter_sent_log_records: ['exporter', 'exporter', 'logs', 'accepted'],
  otelcol_exporter_sent_spans: ['exporter', 'exporter', 'traces', 'accepted'],
  otelcol_exporter_enqueue_failed_log_records: ['exporter', 'exporter', 'logs', 'refused'],
  otelcol_exporter_enqueue_failed_spans: ['exporter', 'exporter', 'traces', 'refused'],
  otelcol_exporter_send_failed_log_records: ['exporter', 'exporter', 'logs', 'dropped'],
  otelcol_exporter_send_failed_spans: ['exporter', 'exporter', 'traces', 'dropped'],
  trailhouse_security_events_dropped: ['security_events', '', 'logs', 'dropped'],
};

type Totals = Map<string, Record<Field, number>>;

/** Deltas of the registry's pipeline counters between calls. */
export class StatsSampler {
  private last: Totals = new Map();

  constructor(private readonly metrics: MetricsRegistry) {
    this.last = this.totals();
  }

  private totals(): Totals {
    const t: Totals = new Map();
    for (const prefix of ['otelcol_', 'trailhouse_processor_', 'trailhouse_security_events_']) {
      this.metrics.forEachSeries(prefix, (name, labels, value) => {
        const src = SOURCES[name];
        if (!src) return;
        const [kind, idLabel, sig, field] = src;
        const signal = sig.startsWith('@') ? labels[sig.slice(1)] : sig;
        const id = idLabel ? labels[idLabel] : '';
        if ((idLabel && !id) || (signal !== 'logs' && signal !== 'traces')) return;
        const key = `${id ? `${kind}/${id}` : kind}\u0000${signal}`;
        let r = t.get(key);
        if (!r) t.set(key, (r = { accepted: 0, refused: 0, dropped: 0 }));
        r[field] += value; // a receiver has a series per transport: summed
      });
    }
    return t;
  }

  /** The rows for `minuteStartMs`: what changed since the previous call. */
  sample(minuteStartMs: number): StatsRow[] {
    const now = this.totals();
    const rows: StatsRow[] = [];
    const zero = { accepted: 0, refused: 0, dropped: 0 };
    for (const [key, v] of now) {
      const p = this.last.get(key) ?? zero;
      const d = (f: Field) => Math.max(0, v[f] - p[f]);
      const row = { accepted: d('accepted'), refused: d('refused'), dropped: d('dropped') };
      if (!row.accepted && !row.refused && !row.dropped) continue;
      const [component, signal] = key.split('\u0000') as [string, 'logs' | 'traces'];
      rows.push({ minute: Math.floor(minuteStartMs / 60_000) * 60, component, signal, ...row });
    }
    this.last = now;
    return rows;
  }
}

export function statsInsertSql(database: string, rows: readonly StatsRow[]): string {
  const values = rows.map((r) => `(${r.minute}, ${quote(r.component)}, ${quote(r.signal)}, ${Math.round(r.accepted)}, ${Math.round(r.refused)}, ${Math.round(r.dropped)})`);
  return `INSERT INTO ${ident(database)}.${ident(STATS_TABLE)} (Minute, Component, Signal, Accepted, Refused, Dropped) VALUES ${values.join(', ')}`;
}
