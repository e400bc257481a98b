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
import { sortedKeys } from './leaf.ts';

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
    ${LOG_COLUMNS_SQL},
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_principal Principal TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_log_index LogIndex TYPE minmax GRANULARITY 1
) ENGINE = MergeTree()
PARTITION BY toDate(Timestamp)
ORDER BY (Category, Outcome, Timestamp)
${o.retention !== undefined ? (o.retention ? `TTL ${o.retention}` : '') : ttl(o.ttlMs)}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1, non_replicated_deduplication_window = 10000`;
}

/**
 * The audit log's columns (lib/audit/log.ts): which log the row is a leaf
 * of, its index there, the batch (upstream dedup token) that wrote it, and
 * the hash of its body (lib/audit/leaf.ts), which the leaves table keeps
 * after the row expires.
 */
const LOG_COLUMN_DEFS = [
  ['LogOrigin', 'LowCardinality(String)'],
  ['LogIndex', 'UInt64'],
  ['LogBatch', 'String CODEC(ZSTD(1))'],
  ['LogBodyHash', 'String CODEC(ZSTD(1))'],
] as const;
const LOG_COLUMNS_SQL = LOG_COLUMN_DEFS.map(([n, t]) => `${n} ${t}`).join(',\n    ');

/** Adds the log's columns to a table created before them (ALTER is a no-op once they exist). */
export function auditLogColumnsSql(o: { database: string; table: string }): string[] {
  const t = auditTableName(o);
  return [
    ...LOG_COLUMN_DEFS.map(([n, type]) => `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS ${n} ${type}`),
    `ALTER TABLE ${t} ADD INDEX IF NOT EXISTS idx_log_index LogIndex TYPE minmax GRANULARITY 1`,
  ];
}

export const AUDIT_COLUMNS = [
  'Timestamp', 'Category', 'Action', 'Outcome', 'Principal', 'Source', 'Destination', 'Resource', 'Policy', 'TraceId', 'SpanId', 'ServiceName', 'Details',
  'LogOrigin', 'LogIndex', 'LogBatch', 'LogBodyHash',
] as const;

export function databaseSql(database: string): string {
  return `CREATE DATABASE IF NOT EXISTS ${database}`;
}

/**
 * One JSONEachRow line. Timestamp goes as a bare integer of nanoseconds:
 * exact, and not subject to ClickHouse's date-text heuristics.
 */
export function auditRow(row: AuditRow): string {
  const { event: e, service, fallbackTime } = row;
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
    LogOrigin: row.log?.origin ?? '',
    LogBatch: row.log?.batch ?? '',
    LogBodyHash: row.log?.bodyHash ?? '',
  });
  // Details in the order the leaf's body encoding sorts them (as auditNative writes them); not an
  // object for JSON.stringify, which would put integer-like keys first.
  const details = sortedKeys(e.details).map((k) => `${JSON.stringify(k)}:${JSON.stringify(e.details[k])}`).join(',');
  return `{"Timestamp":${e.time || fallbackTime},"LogIndex":${row.log?.index ?? 0},"Details":{${details}},${rest.slice(1)}`;
}

/** Where a row sits in the audit log (lib/audit/log.ts assigns it). */
export interface LogPosition {
  origin: string;
  index: number;
  batch: string;
  /** Lowercase hex of the body's SHA-256 (hex, not bytes: the same text in every format and query result). */
  bodyHash: string;
}

/** An event as it is stored: with its service and the time to use when it has none. */
export interface AuditRow {
  event: AuditEvent;
  service: string;
  fallbackTime: bigint;
  /**
   * The body's SHA-256 as the audit log stores it (leaf.ts bodyHashHex),
   * when classification computed it (CompiledRules.hashBodies). Whatever
   * changes the event's body after that clears it.
   */
  bodyHash?: string;
  /** Set by the audit log before the insert; rows written without the log carry empty log columns. */
  log?: LogPosition;
}

/** The row's time as stored (ns). */
export function auditRowTime(r: AuditRow): bigint {
  return r.event.time || r.fallbackTime;
}

/** audit_events rows as one Native block, columns in AUDIT_COLUMNS order. */
export function auditNative(rows: readonly AuditRow[]): NativeBlock {
  const n = rows.length;
  const ts = new BigInt64Array(n);
  const text = AUDIT_COLUMNS.slice(1, 12).map(() => new Sink(n * 24));
  const details = new MapColumn(n, 4);
  const origin = new Sink(n * 8);
  const batch = new Sink(n * 8);
  // UInt64 as two little-endian u32 halves (the block's bytes are little-endian, as ClickHouse's are): no BigInt per row.
  const index = new Uint32Array(2 * n);
  const bodyHashes = new Sink(n * 65);
  // A batch's rows share one origin: its String encoding made once.
  let originOf: string | undefined;
  let originBytes: Uint8Array | undefined;
  for (let i = 0; i < n; i++) {
    const { event: e, service, fallbackTime } = rows[i]!;
    ts[i] = e.time || fallbackTime;
    const values = [e.category, e.action, e.outcome, e.principal, e.source, e.destination, e.resource, e.policy, e.traceId, e.spanId, service];
    for (let c = 0; c < values.length; c++) text[c]!.str(values[c]!);
    // Sorted as the leaf's body encoding sorts them: verify then has nothing to sort.
    details.addRecord(e.details, sortedKeys(e.details));
    const log = rows[i]!.log;
    const o = log?.origin ?? '';
    if (o !== originOf) {
      const one = new Sink(o.length + 8);
      one.str(o);
      originBytes = one.data;
      originOf = o;
    }
    origin.raw(originBytes!);
    batch.str(log?.batch ?? '');
    bodyHashes.str(log?.bodyHash ?? '');
    if (log) {
      index[2 * i] = log.index >>> 0;
      index[2 * i + 1] = Math.floor(log.index / 0x1_0000_0000);
    }
  }
  return nativeBlock(n, [
    ['Timestamp', 'DateTime64(9)', [bytesOf(ts)]],
    ...AUDIT_COLUMNS.slice(1, 12).map((name, c) => [name, 'String', [text[c]!.data]] as const),
    ['Details', 'Map(String, String)', details.chunks],
    ['LogOrigin', 'String', [origin.data]],
    ['LogIndex', 'UInt64', [bytesOf(index)]],
    ['LogBatch', 'String', [batch.data]],
    ['LogBodyHash', 'String', [bodyHashes.data]],
  ]);
}
