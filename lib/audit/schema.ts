/**
 * The `audit_events` table: one row per normalized audit event.
 *
 * ORDER BY (Category, Outcome, Timestamp) serves the SOC 2 questions ("every
 * denial last quarter") and, with daily partitions, time-range scans; a bloom
 * filter on TraceId serves `trailhouse trace`. Column names follow the
 * Collector's tables (PascalCase, `Timestamp`, `TraceId`, `SpanId`) so joins
 * with otel_logs / otel_traces read naturally.
 *
 * non_replicated_deduplication_window makes a plain MergeTree honour
 * insert_deduplication_token (Replicated engines always do), so a payload
 * redelivered by Kafka does not write its events twice.
 */
import { bytesOf, MapColumn, nativeBlock, Sink, type NativeBlock } from '../clickhouse/index.ts';
import type { AuditEvent } from './event.ts';

export interface AuditTableOptions {
  database: string;
  table: string;
  /** Milliseconds; 0 = no TTL. */
  ttlMs: number;
  /** The store's retention policy rendered for this table (lib/retention; '' = none), instead of ttlMs. */
  retention?: string;
}

/** `database.table`; both are validated identifiers (config.ts), so no quoting is needed. */
export function auditTableName(o: { database: string; table: string }): string {
  return `${o.database}.${o.table}`;
}

function ttl(ms: number): string {
  if (ms <= 0) return '';
  const s = Math.floor(ms / 1000);
  if (s % 86_400 === 0) return `TTL toDateTime(Timestamp) + toIntervalDay(${s / 86_400})`;
  if (s % 3_600 === 0) return `TTL toDateTime(Timestamp) + toIntervalHour(${s / 3_600})`;
  return `TTL toDateTime(Timestamp) + toIntervalSecond(${s})`;
}

export function auditTableSql(o: AuditTableOptions): string {
  return `CREATE TABLE IF NOT EXISTS ${auditTableName(o)} (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    Category LowCardinality(String),
    Action LowCardinality(String),
    Outcome LowCardinality(String),
    Principal String CODEC(ZSTD(1)),
    Source String CODEC(ZSTD(1)),
    Destination String CODEC(ZSTD(1)),
    Resource String CODEC(ZSTD(1)),
    Policy String CODEC(ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ServiceName LowCardinality(String),
    Details Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_principal Principal TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = MergeTree()
PARTITION BY toDate(Timestamp)
ORDER BY (Category, Outcome, Timestamp)
${o.retention !== undefined ? (o.retention ? `TTL ${o.retention}` : '') : ttl(o.ttlMs)}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000`;
}

export const AUDIT_COLUMNS = [
  'Timestamp', 'Category', 'Action', 'Outcome', 'Principal', 'Source', 'Destination', 'Resource', 'Policy', 'TraceId', 'SpanId', 'ServiceName', 'Details',
] as const;

export function databaseSql(database: string): string {
  return `CREATE DATABASE IF NOT EXISTS ${database}`;
}

/**
 * One JSONEachRow line. Timestamp goes as a bare integer of nanoseconds:
 * exact, and not subject to ClickHouse's date-text heuristics.
 */
export function auditRow({ event: e, service, fallbackTime }: AuditRow): string {
  const rest = JSON.stringify({
    Category: e.category,
    Action: e.action,
    Outcome: e.outcome,
    Principal: e.principal,
    Source: e.source,
    Destination: e.destination,
    Resource: e.resource,
    Policy: e.policy,
    TraceId: e.traceId,
    SpanId: e.spanId,
    ServiceName: service,
    Details: e.details,
  });
  return `{"Timestamp":${e.time || fallbackTime},${rest.slice(1)}`;
}

/** An event as it is stored: with its service and the time to use when it has none. */
export interface AuditRow {
  event: AuditEvent;
  service: string;
  fallbackTime: bigint;
}

/** audit_events rows as one Native block, columns in AUDIT_COLUMNS order. */
export function auditNative(rows: readonly AuditRow[]): NativeBlock {
  const n = rows.length;
  const ts = new BigInt64Array(n);
  const text = AUDIT_COLUMNS.slice(1, 12).map(() => new Sink(n * 24));
  const details = new MapColumn(n, 4);
  for (let i = 0; i < n; i++) {
    const { event: e, service, fallbackTime } = rows[i]!;
    ts[i] = e.time || fallbackTime;
    const values = [e.category, e.action, e.outcome, e.principal, e.source, e.destination, e.resource, e.policy, e.traceId, e.spanId, service];
    for (let c = 0; c < values.length; c++) text[c]!.str(values[c]!);
    details.addRecord(e.details);
  }
  return nativeBlock(n, [
    ['Timestamp', 'DateTime64(9)', [bytesOf(ts)]],
    ...AUDIT_COLUMNS.slice(1, 12).map((name, c) => [name, 'String', [text[c]!.data]] as const),
    ['Details', 'Map(String, String)', details.chunks],
  ]);
}
