/**
 * otel_logs rows of chosen services as leaves of their own Merkle log
 * (merkle-log.ts), written by the clickhouse exporter: the leaf encoding is
 * otel-logs-leaf.ts, the row's place in the log goes in four columns added
 * to the Collector's table (its own columns unchanged):
 *
 *   LogOrigin LowCardinality(String), LogIndex UInt64, LogBatch String, LogBodyHash String
 *
 * ('' / 0 on rows of services not chosen, as on rows written before), and,
 * as for the audit trail (log-schema.ts), `<table>_log_leaves` (filled by
 * `<table>_log_leaves_mv` in the same INSERT, no TTL) and
 * `<table>_checkpoints` next to it.
 */
import type { LogColumns, NativeBlock } from '../clickhouse/native.ts';
import { bytesOf, Sink } from '../clickhouse/native.ts';
import { checkpointsTableSql, leavesTable, leavesView, type LogTables } from './log-schema.ts';
import type { LeafSource } from './merkle-log.ts';
import type { OtelLogsLeaves } from './otel-logs-leaf.ts';

/** How the leaf entry's Category and Outcome are read from an otel_logs leaves table (log-schema.ts LogTables.header). */
export const OTEL_LOGS_HEADER = { category: 'CAST(SeverityText AS String)', outcome: 'toString(SeverityNumber)' } as const;

export const LOG_POSITION_COLUMNS = ['LogOrigin', 'LogIndex', 'LogBatch', 'LogBodyHash'] as const;

const POSITION_DEFS = [
  ['LogOrigin', 'LowCardinality(String)'],
  ['LogIndex', 'UInt64'],
  ['LogBatch', 'String CODEC(ZSTD(1))'],
  ['LogBodyHash', 'String CODEC(ZSTD(1))'],
] as const;

/** The log's columns on the table (ALTER … IF NOT EXISTS: a no-op once there), its leaves table, their view, its checkpoints table. */
export function otelLogsLogSql(o: LogTables): string[] {
  const t = `${o.database}.${o.table}`;
  return [
    ...POSITION_DEFS.map(([n, type]) => `ALTER TABLE ${t} ADD COLUMN IF NOT EXISTS ${n} ${type}`),
    `ALTER TABLE ${t} ADD INDEX IF NOT EXISTS idx_log_index LogIndex TYPE minmax GRANULARITY 1`,
    `CREATE TABLE IF NOT EXISTS ${leavesTable(o)} (
    LogOrigin LowCardinality(String),
    LogIndex UInt64,
    Timestamp DateTime64(9),
    SeverityText LowCardinality(String),
    SeverityNumber UInt8,
    ServiceName LowCardinality(String),
    LogBodyHash String CODEC(ZSTD(1)),
    LogBatch String CODEC(ZSTD(1))
) ENGINE = MergeTree()
ORDER BY (LogOrigin, LogIndex)
SETTINGS non_replicated_deduplication_window = 1000`,
    // A table made before the window (a no-op once it has it).
    `ALTER TABLE ${leavesTable(o)} MODIFY SETTING non_replicated_deduplication_window = 1000`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${leavesView(o)} TO ${leavesTable(o)} AS
SELECT LogOrigin, LogIndex, Timestamp, SeverityText, SeverityNumber, ServiceName, LogBodyHash, LogBatch
FROM ${t} WHERE LogOrigin != ''`,
    checkpointsTableSql(o),
  ];
}

/** One exporter batch: its columns, its covered rows (collected by the walk), and its block once placed. */
export interface OtelLogsBatch {
  cols: LogColumns;
  covered: OtelLogsLeaves;
  block?: NativeBlock;
}

/**
 * otel_logs batches as leaves. `insert` writes a placed block (the table's
 * columns, then LOG_POSITION_COLUMNS) with the given dedup token.
 */
export function otelLogsLeafSource(o: LogTables, insert: (block: NativeBlock, dedupToken: string) => Promise<void>): LeafSource<OtelLogsBatch> {
  return {
    size: (b) => b.covered.count,
    place(b, origin, first, token) {
      const cov = b.covered;
      const rows = b.cols.rows;
      const originCol = new Sink(rows + origin.length * cov.count);
      const batchCol = new Sink(rows + token.length);
      const hashCol = new Sink(rows + 65 * cov.count);
      // UInt64 as two 32-bit words (little-endian hosts only, as every Native block): no bigint per row.
      const index = new Uint32Array(2 * rows);
      let next = 0; // the next covered row
      for (let i = 0; i < rows; i++) {
        if (next < cov.count && cov.rows[next] === i) {
          originCol.str(origin);
          // The batch is named on its first row only, as in the audit log.
          batchCol.str(next === 0 ? token : '');
          hashCol.str(cov.bodyHex[next]!);
          const at = first + next;
          index[2 * i] = at >>> 0;
          index[2 * i + 1] = Math.floor(at / 0x1_0000_0000);
          next++;
        } else {
          originCol.varint(0);
          batchCol.varint(0);
          hashCol.varint(0);
        }
      }
      b.block = b.cols.block([
        ['LogOrigin', 'String', [originCol.data]],
        ['LogIndex', 'UInt64', [bytesOf(index)]],
        ['LogBatch', 'String', [batchCol.data]],
        ['LogBodyHash', 'String', [hashCol.data]],
      ]);
      return Promise.resolve(cov.leaves(origin, first));
    },
    insert: (b, dedupToken) => insert(b.block!, dedupToken),
    tablesSql: () => otelLogsLogSql(o),
  };
}
