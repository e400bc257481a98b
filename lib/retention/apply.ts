/**
 * Applying the policy to a writer's table at start: the writer's CREATE uses
 * the rendered TTL (plan), then enforce() reads back the TTL in force (an
 * existing table keeps the one it was created with), and when the policy
 * says otherwise runs `ALTER TABLE … MODIFY TTL` (or REMOVE TTL) and records
 * the change as a `configuration` audit event (action `retention.update`)
 * through core/security-events.ts, which the audit processor's
 * SecurityEventWriter stores in audit_events.
 */
import os from 'node:os';
import { emitSecurityEvent, nowNanos } from '../../core/security-events.ts';
import { ident } from '../clickhouse/schema.ts';
import { arrivedView, arrivedViewPrefix, POLICY_TABLE, policyInsertSql, type SqlRunner } from './ledger.ts';
import { checkTableRules, policyJson, rulesOf, type RetentionRule, type TableKind } from './policy.ts';
import { exclusiveConditions, quote, SHAPES, ttlSql } from './render.ts';

/** A table a writer creates and the policy governs. */
export interface RetentionTarget {
  database: string;
  /** The table as created. */
  table: string;
  /** The name rules match (the table, or `trace_summary` for correlate's `trace_summary_parts`). */
  ruleTable: string;
  kind: TableKind;
  /** The writer's own `ttl` (ms, 0 = none) and where it is configured, for the error when both are set. */
  writerTtlMs: number;
  writerTtlKey: string;
  /** A table derived from `derivedFrom`'s rows (kind lookup): kept as long as its longest rule, by that rule's name. */
  derivedFrom?: string;
}

export interface RetentionPlan {
  target: RetentionTarget;
  rules: RetentionRule[];
  /** The TTL clause without the keyword; '' = none. */
  ttl: string;
  /** Whether parts may only be dropped whole (ttl_only_drop_parts): only when one rule governs every row. */
  onlyDropParts: boolean;
}

/**
 * The rules that govern `t` and their TTL. Throws with the reason when the
 * writer's `ttl` and the policy both govern the table, or when a rule looks
 * at something the table does not have. A writer `ttl` alone is the policy's
 * equivalent: one rule `ttl` for every row.
 */
export function planRetention(policy: readonly RetentionRule[], graceMs: number, t: RetentionTarget): RetentionPlan {
  let rules = rulesOf(policy, t.derivedFrom ?? t.ruleTable);
  if (t.derivedFrom && rules.length) {
    const longest = rules.reduce((a, b) => (b.periodMs > a.periodMs ? b : a));
    rules = [{ name: longest.name, table: t.ruleTable, periodMs: longest.periodMs, where: {} }];
  }
  if (rules.length && t.writerTtlMs > 0) {
    throw new Error(
      `${t.writerTtlKey} and the store's retention rules (${rules.map((r) => r.name).join(', ')}) both govern ${t.derivedFrom ?? t.ruleTable}: remove ${t.writerTtlKey}, the retention rules decide`,
    );
  }
  if (!rules.length && t.writerTtlMs > 0) {
    if (t.writerTtlMs % 1000 !== 0) throw new Error(`${t.writerTtlKey}: must be whole seconds under a retention policy`);
    rules = [{ name: 'ttl', table: t.ruleTable, periodMs: t.writerTtlMs, where: {} }];
  }
  const problems = checkTableRules(rules, t.ruleTable, t.kind);
  if (problems.length) throw new Error(`retention: ${problems.join('; ')}`);
  const onlyDropParts = rules.length === 1 && Object.keys(rules[0]!.where).length === 0;
  return { target: t, rules, ttl: ttlSql(rules, SHAPES[t.kind], graceMs), onlyDropParts };
}

interface Engine {
  engine_full: string;
}

/** The TTL in an engine_full / CREATE text ('' = none). The table's own expressions come before it, our settings after. */
export function ttlInForce(engineFull: string): string {
  const at = engineFull.indexOf(' TTL ');
  if (at < 0) return '';
  const end = engineFull.lastIndexOf(' SETTINGS ');
  return engineFull.slice(at + 5, end > at ? end : undefined);
}

/** `ttl` as the engine prints it (its formatter is what wrote engine_full). */
export async function normalizedTtl(db: SqlRunner, ttl: string): Promise<string> {
  if (!ttl) return '';
  const probe = 'CREATE TABLE x.y (x Int8) ENGINE = MergeTree ORDER BY x TTL ';
  const [row] = await db.query<{ f: string }>(`SELECT formatQuerySingleLine(${quote(probe + ttl)}) AS f`);
  const f = row?.f ?? '';
  if (!f.startsWith(probe.replace('(x Int8)', '(`x` Int8)'))) throw new Error(`retention: the engine formats TTLs unexpectedly: ${f.slice(0, 200)}`);
  return f.slice(probe.length + 2);
}

export interface EnforceResult {
  /** The TTL in force was altered. */
  changed: boolean;
  /** A `retention.update` event was raised: the TTL changed, or the rules differ from the last ones applied (or none were). */
  recorded: boolean;
  before: string;
  after: string;
}

/** Who applies the change, for the audit event. */
function principal(): string {
  try {
    return os.userInfo().username;
  } catch {
    return `uid:${process.getuid?.() ?? '?'}`;
  }
}

/**
 * Makes the table's TTL the plan's, sets ttl_only_drop_parts to match, and
 * (re)creates its arrived-expired view. A change of the TTL in force, or of
 * the rules since the last application recorded in retention_policy (the
 * first application included), is raised as a `retention.update` audit
 * event carrying the old and new TTL and rules: the history of the policy
 * lives in the tamper-evident audit trail.
 */
export async function enforceRetention(db: SqlRunner, plan: RetentionPlan, ledgerDatabase: string): Promise<EnforceResult> {
  const t = plan.target;
  const name = `${ident(t.database)}.${ident(t.table)}`;
  const [row] = await db.query<Engine>(`SELECT engine_full FROM system.tables WHERE database = ${quote(t.database)} AND name = ${quote(t.table)}`);
  if (!row) throw new Error(`retention: table ${t.database}.${t.table} does not exist`);
  const [last] = await db.query<{ policy: string; n: string }>(
    `SELECT argMax(Policy, AppliedAt) AS policy, toString(count()) AS n FROM ${ident(ledgerDatabase)}.${ident(POLICY_TABLE)} WHERE Database = ${quote(t.database)} AND Table = ${quote(t.table)}`,
  );
  const oldPolicy = last && last.n !== '0' ? last.policy : '';
  const policy = policyJson(plan.rules);
  const before = ttlInForce(row.engine_full);
  const after = await normalizedTtl(db, plan.ttl);
  const changed = before !== after;
  const dropParts = /\bttl_only_drop_parts = 1\b/.test(row.engine_full.slice(row.engine_full.lastIndexOf(' SETTINGS ')));
  if (dropParts !== plan.onlyDropParts) await db.exec(`ALTER TABLE ${name} MODIFY SETTING ttl_only_drop_parts = ${plan.onlyDropParts ? 1 : 0}`);
  if (changed) await db.exec(plan.ttl ? `ALTER TABLE ${name} MODIFY TTL ${plan.ttl}` : `ALTER TABLE ${name} REMOVE TTL`);
  const recorded = changed || oldPolicy !== policy;
  if (recorded) {
    emitSecurityEvent({
      time: nowNanos(),
      category: 'configuration',
      action: 'retention.update',
      outcome: 'success',
      subject: principal(),
      source: os.hostname(),
      surface: 'retention',
      reason: '',
      details: {
        resource: `${t.database}.${t.table}`,
        rule_table: t.ruleTable,
        old_ttl: before,
        new_ttl: after,
        old_policy: oldPolicy,
        policy,
        rules: plan.rules.map((r) => r.name).join(','),
        pid: String(process.pid),
      },
    });
  }
  await replaceArrivedView(db, plan, ledgerDatabase);
  const conds = exclusiveConditions(plan.rules);
  const rules = plan.rules.map((r, i) => ({ name: r.name, periodMs: r.periodMs, condition: conds[i]! }));
  await db.exec(policyInsertSql(ledgerDatabase, { database: t.database, table: t.table, ruleTable: t.ruleTable, ttl: after, rules, policy }));
  return { changed, recorded, before, after };
}

/**
 * The table's arrived-expired view for these rules: created if it is not
 * there yet, before the views of other rules are dropped (so inserts are
 * never without one; an unchanged policy touches nothing).
 */
async function replaceArrivedView(db: SqlRunner, plan: RetentionPlan, ledgerDatabase: string): Promise<void> {
  const t = plan.target;
  const view = plan.rules.length ? arrivedView({ database: t.database, table: t.table, ruleTable: t.ruleTable, ledgerDatabase }, plan.rules, SHAPES[t.kind]) : undefined;
  if (view) await db.exec(view.sql);
  const prefix = arrivedViewPrefix(t.table);
  const views = await db.query<{ name: string }>(`SELECT name FROM system.tables WHERE database = ${quote(t.database)} AND startsWith(name, ${quote(prefix)}) AND endsWith(name, '_mv')`);
  for (const v of views) if (v.name !== view?.name && /^[0-9a-f]{12}_mv$/.test(v.name.slice(prefix.length))) await db.exec(`DROP VIEW IF EXISTS ${ident(t.database)}.${ident(v.name)}`);
}
