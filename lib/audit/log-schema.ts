/**
 * The audit log's own tables, next to audit_events (same database):
 *
 * - `audit_log_leaves`: one record per leaf — origin, index, the columns
 *   retention decides on, the body's hash and the batch that wrote it —
 *   filled by a materialized view at every insert into audit_events, so a
 *   row and its leaf record land in the same INSERT (a deduplicated insert
 *   writes neither). Ordered by (LogOrigin, LogIndex), the columns named as in audit_events: the log's index, read at
 *   start to continue the tree and to know which batches it already holds,
 *   and by `trailhouse verify`/`proof`. No TTL: a row that expires leaves
 *   its leaf behind, so the tree stays checkable.
 * - `audit_checkpoints`: every signed checkpoint (the note as signed, and
 *   the tree's right edge at that size, so the log continues after a
 *   restart without rereading every leaf).
 *
 * Hashes are lowercase hex text: the same in every format and query
 * result, and what an auditor compares by eye.
 */
import { auditTableName } from './schema.ts';

export interface LogTables {
  database: string;
  /** The audit events table the leaves come from. */
  table: string;
  /**
   * How the leaves table's two header columns after Timestamp are read, as
   * SQL giving strings (the leaf entry's Category and Outcome, leaf.ts).
   * Default the audit table's `Category`, `Outcome`.
   */
  header?: { category: string; outcome: string };
}

/** SELECT expressions of the two header columns of a leaves table, named Category and Outcome. */
export function headerSql(o: LogTables): string {
  return o.header ? `${o.header.category} AS Category, ${o.header.outcome} AS Outcome` : 'Category, Outcome';
}

export const leavesTable = (o: LogTables): string => `${o.database}.${o.table}_log_leaves`;
export const checkpointsTable = (o: LogTables): string => `${o.database}.${o.table}_checkpoints`;
export const leavesView = (o: LogTables): string => `${o.database}.${o.table}_log_leaves_mv`;

/** Insert settings of a log's rows: the leaves view's insert is deduplicated with the table's (see above). */
export const LOG_INSERT_SETTINGS = { deduplicate_blocks_in_dependent_materialized_views: 1 } as const;

/** CREATE statements, in order (the view after both of its tables). */
export function logTablesSql(o: LogTables): string[] {
  return [
    `CREATE TABLE IF NOT EXISTS ${leavesTable(o)} (
    LogOrigin LowCardinality(String),
    LogIndex UInt64,
    Timestamp DateTime64(9),
    Category LowCardinality(String),
    Outcome LowCardinality(String),
    ServiceName LowCardinality(String),
    LogBodyHash String CODEC(ZSTD(1)),
    LogBatch String CODEC(ZSTD(1))
) ENGINE = MergeTree()
ORDER BY (LogOrigin, LogIndex)
SETTINGS non_replicated_deduplication_window = 1000`,
    // A table made before the window (a no-op once it has it).
    `ALTER TABLE ${leavesTable(o)} MODIFY SETTING non_replicated_deduplication_window = 1000`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${leavesView(o)} TO ${leavesTable(o)} AS
SELECT LogOrigin, LogIndex, Timestamp, Category, Outcome, ServiceName, LogBodyHash, LogBatch
FROM ${auditTableName(o)} WHERE LogOrigin != ''`,
    checkpointsTableSql(o),
  ];
}

/** The checkpoints table of a log (every log's is the same shape). */
export function checkpointsTableSql(o: LogTables): string {
  return `CREATE TABLE IF NOT EXISTS ${checkpointsTable(o)} (
    Origin LowCardinality(String),
    Size UInt64,
    RootHash String,
    Time DateTime64(3),
    KeyName String,
    KeyId String,
    Note String CODEC(ZSTD(1)),
    Frontier Array(String) CODEC(ZSTD(1))
) ENGINE = MergeTree()
ORDER BY (Origin, Size, Time)
SETTINGS non_replicated_deduplication_window = 1000`;
}

/** A value as a ClickHouse string literal: backslash and quote escaped, nothing else interpreted. */
export function sqlString(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}
