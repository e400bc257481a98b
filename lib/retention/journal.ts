/**
 * The sweep's journal, `retention_sweeps`: before a sweep deletes the rows
 * it counted it writes an intent (the table, the rules as policyJson, which
 * rule, its `now`, the counts), and a `done` row once the counts are in the
 * ledger. An intent without `done` (a crash or a failure between the DELETE
 * and the ledger insert) is finished before the next sweep counts anything:
 * the same DELETE again (idempotent: what it matched is gone) and the same
 * ledger insert under the same dedup token (dropped if it had landed). So a
 * deletion is recorded exactly once, kill -9 included.
 *
 * The DELETE is rebuilt from the stored rules by our renderer, never run as
 * stored text: whoever can write the store cannot make the sweep run SQL.
 */
import { ident } from '../clickhouse/schema.ts';
import { LEDGER_SOURCES, type LedgerRow, type SqlRunner } from './ledger.ts';
import { MATCHERS_OF, parsePolicyJson, type RetentionRule, type TableKind } from './policy.ts';
import { expiredSql, quote, SHAPES } from './render.ts';

export const JOURNAL_TABLE = 'retention_sweeps';

export function journalTableSql(database: string): string {
  return `CREATE TABLE IF NOT EXISTS ${ident(database)}.${ident(JOURNAL_TABLE)} (
    Token String,
    Database String,
    Table String,
    Kind LowCardinality(String),
    Policy String,
    RuleIndex UInt16,
    NowMs Int64,
    Counts String,
    State Enum8('intent' = 1, 'done' = 2),
    At DateTime64(3) DEFAULT now64(3)
) ENGINE = MergeTree()
ORDER BY (Token, State)
TTL toDateTime(At) + INTERVAL 90 DAY`;
}

export interface SweepIntent {
  token: string;
  database: string;
  table: string;
  kind: TableKind;
  rules: readonly RetentionRule[];
  ruleIndex: number;
  nowMs: number;
  counts: readonly LedgerRow[];
}

export function intentSql(journalDb: string, i: SweepIntent, state: 'intent' | 'done', policy: string): string {
  return `INSERT INTO ${ident(journalDb)}.${ident(JOURNAL_TABLE)} (Token, Database, Table, Kind, Policy, RuleIndex, NowMs, Counts, State, At) VALUES (${quote(i.token)}, ${quote(i.database)}, ${quote(i.table)}, ${quote(i.kind)}, ${quote(policy)}, ${Math.trunc(i.ruleIndex)}, ${Math.trunc(i.nowMs)}, ${quote(JSON.stringify(i.counts))}, ${quote(state)}, now64(3))`;
}

/** The DELETE of an intent: the rows its rule had expired at its `now`. */
export function intentDeleteSql(i: SweepIntent): string {
  const where = expiredSql(i.rules, i.ruleIndex, SHAPES[i.kind], `toDateTime(${Math.floor(i.nowMs / 1000)})`);
  return `DELETE FROM ${ident(i.database)}.${ident(i.table)} WHERE ${where}`;
}

interface JournalRow {
  Token: string;
  Database: string;
  Table: string;
  Kind: string;
  Policy: string;
  RuleIndex: number;
  NowMs: string;
  Counts: string;
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** An intent read back, checked field by field; throws with the reason. */
export function parseIntent(r: JournalRow): SweepIntent {
  const fail = (why: string): never => {
    throw new Error(`retention journal ${JSON.stringify(r.Token)}: ${why}`);
  };
  if (!IDENT.test(r.Database) || !IDENT.test(r.Table)) fail('database and table must be names');
  if (!Object.hasOwn(MATCHERS_OF, r.Kind)) fail(`unknown table kind ${JSON.stringify(r.Kind)}`);
  const rules = parsePolicyJson(r.Policy);
  const ruleIndex = Number(r.RuleIndex);
  if (!Number.isInteger(ruleIndex) || ruleIndex < 0 || ruleIndex >= rules.length) fail('rule index out of range');
  const nowMs = Number(r.NowMs);
  if (!Number.isSafeInteger(nowMs)) fail('now is not a time');
  let counts: unknown;
  try {
    counts = JSON.parse(r.Counts);
  } catch {
    return fail('counts are not JSON');
  }
  const ok = (c: unknown): c is LedgerRow => {
    const o = c as Record<string, unknown>;
    return typeof o === 'object' && o !== null && ['rule', 'table', 'day', 'rows', 'minTime', 'maxTime'].every((k) => typeof o[k] === 'string') && (LEDGER_SOURCES as readonly unknown[]).includes(o.source);
  };
  if (!Array.isArray(counts) || !counts.every(ok)) fail('counts are not ledger rows');
  return { token: r.Token, database: r.Database, table: r.Table, kind: r.Kind as TableKind, rules, ruleIndex, nowMs, counts: counts as LedgerRow[] };
}

/** Intents without their `done`, oldest first. */
export async function pendingIntents(db: SqlRunner, journalDb: string): Promise<SweepIntent[]> {
  const j = `${ident(journalDb)}.${ident(JOURNAL_TABLE)}`;
  const rows = await db.query<JournalRow>(
    `SELECT Token, Database, Table, toString(Kind) AS Kind, Policy, RuleIndex, toString(NowMs) AS NowMs, Counts FROM ${j}
     WHERE State = 'intent' AND Token NOT IN (SELECT Token FROM ${j} WHERE State = 'done') ORDER BY At`,
  );
  return rows.map(parseIntent);
}
