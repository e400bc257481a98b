/**
 * The deletion ledger, `retention_ledger`: per rule, table and day, how many
 * rows expired and their time range, and how that is known:
 *
 * - `sweep`: counted by the sweep (sweep.ts) just before it deleted exactly
 *   those rows;
 * - `arrived_expired`: rows already past their rule's period when they were
 *   inserted, counted by a materialized view on the table at insert time
 *   (so by the engine, for every writer, without a per-record cost here);
 * - `part_log`: reserved for deletions read from a server's system.part_log
 *   (the embedded engine has no part_log).
 */
import { createHash } from 'node:crypto';
import { ident } from '../clickhouse/schema.ts';
import type { RetentionRule } from './policy.ts';
import { expiredSql, quote, type TableShape } from './render.ts';

export const LEDGER_TABLE = 'retention_ledger';
export const LEDGER_SOURCES = ['part_log', 'sweep', 'arrived_expired'] as const;
export type LedgerSource = (typeof LEDGER_SOURCES)[number];

/** The statements run by a store whose users read through a minimal SQL seam. */
export interface SqlRunner {
  exec(sql: string): Promise<void>;
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
}

export function ledgerName(database: string): string {
  return `${ident(database)}.${ident(LEDGER_TABLE)}`;
}

export function ledgerTableSql(database: string): string {
  return `CREATE TABLE IF NOT EXISTS ${ledgerName(database)} (
    Rule LowCardinality(String),
    Table LowCardinality(String),
    Day Date,
    Rows UInt64,
    MinTime DateTime64(9),
    MaxTime DateTime64(9),
    RecordedAt DateTime64(3) DEFAULT now64(3),
    Source Enum8('part_log' = 1, 'sweep' = 2, 'arrived_expired' = 3)
) ENGINE = MergeTree()
ORDER BY (Table, Rule, Day, RecordedAt)
SETTINGS non_replicated_deduplication_window = 10000`;
}

/**
 * What is in force: one row per governed table each time a writer applies
 * the policy at start (the TTL as the engine prints it and the rules in
 * order, and as policyJson for machines), so `trailhouse retention` can show
 * it through the read-only query interface, which does not expose DDL.
 */
export const POLICY_TABLE = 'retention_policy';

export function policyTableSql(database: string): string {
  return `CREATE TABLE IF NOT EXISTS ${ident(database)}.${ident(POLICY_TABLE)} (
    Database LowCardinality(String),
    Table LowCardinality(String),
    RuleTable LowCardinality(String),
    Ttl String,
    Rules Array(Tuple(name String, period_seconds UInt64, condition String)),
    Policy String,
    AppliedAt DateTime64(3) DEFAULT now64(3)
) ENGINE = MergeTree()
ORDER BY (Database, Table, AppliedAt)`;
}

export function policyInsertSql(
  database: string,
  o: { database: string; table: string; ruleTable: string; ttl: string; rules: readonly { name: string; periodMs: number; condition: string }[]; policy: string },
): string {
  const rules = o.rules.map((r) => `(${quote(r.name)}, ${Math.floor(r.periodMs / 1000)}, ${quote(r.condition)})`).join(', ');
  return `INSERT INTO ${ident(database)}.${ident(POLICY_TABLE)} (Database, Table, RuleTable, Ttl, Rules, Policy, AppliedAt) VALUES (${quote(o.database)}, ${quote(o.table)}, ${quote(o.ruleTable)}, ${quote(o.ttl)}, [${rules}], ${quote(o.policy)}, now64(3))`;
}

/** The prefix of a table's arrived-expired views: `<table>_retention_arrived_<hash>_mv`. */
export function arrivedViewPrefix(table: string): string {
  return `${table}_retention_arrived_`;
}

/**
 * The ledger keeps insert tokens (non_replicated_deduplication_window), so a
 * block the table drops as a redelivery (same insert_deduplication_token) is
 * not counted again by the view either.
 *
 * A materialized view that counts, in each inserted block, the rows already
 * past their rule's period (`now()` is the insert's time) into the ledger.
 * Its name carries a hash of its definition, so an unchanged policy keeps
 * the view that is counting (another ingester's inserts never go uncounted
 * while a process restarts).
 */
export function arrivedView(o: { database: string; table: string; ruleTable: string; ledgerDatabase: string }, rules: readonly RetentionRule[], shape: TableShape): { name: string; sql: string } {
  const expired = rules.map((r, i) => `${expiredSql(rules, i, shape, 'now()')}, ${quote(r.name)}`).join(', ');
  const body = `TO ${ledgerName(o.ledgerDatabase)}
AS SELECT
    multiIf(${expired}, '') AS Rule,
    ${quote(o.ruleTable)} AS Table,
    toDate(${shape.time}) AS Day,
    count() AS Rows,
    min(${shape.stamp}) AS MinTime,
    max(${shape.stamp}) AS MaxTime,
    now64(3) AS RecordedAt,
    'arrived_expired' AS Source
FROM ${ident(o.database)}.${ident(o.table)}
WHERE Rule != ''
GROUP BY Rule, Day`;
  const name = `${arrivedViewPrefix(o.table)}${createHash('sha256').update(body).digest('hex').slice(0, 12)}_mv`;
  return { name, sql: `CREATE MATERIALIZED VIEW IF NOT EXISTS ${ident(o.database)}.${ident(name)} ${body}` };
}

export interface LedgerRow {
  rule: string;
  table: string;
  /** YYYY-MM-DD */
  day: string;
  rows: string;
  minTime: string;
  maxTime: string;
  source: LedgerSource;
}

const DAY = /^\d{4}-\d{2}-\d{2}$/;
const COUNT = /^\d+$/;
const TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$/;

/** An INSERT of ledger rows; every value checked or quoted (they come back from the engine, but still). */
export function ledgerInsertSql(database: string, rows: readonly LedgerRow[], dedupToken?: string): string {
  const values = rows.map((r) => {
    if (!DAY.test(r.day) || !COUNT.test(r.rows) || !TIME.test(r.minTime) || !TIME.test(r.maxTime)) {
      throw new Error(`retention ledger: unexpected values from the engine: ${JSON.stringify(r)}`);
    }
    return `(${quote(r.rule)}, ${quote(r.table)}, ${quote(r.day)}, ${r.rows}, ${quote(r.minTime)}, ${quote(r.maxTime)}, now64(3), ${quote(r.source)})`;
  });
  const settings = dedupToken ? ` SETTINGS insert_deduplication_token = ${quote(dedupToken)}` : '';
  return `INSERT INTO ${ledgerName(database)} (Rule, Table, Day, Rows, MinTime, MaxTime, RecordedAt, Source)${settings} VALUES ${values.join(', ')}`;
}
