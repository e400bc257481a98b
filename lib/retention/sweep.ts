/**
 * The retention service of a store: the policy, the writers' tables it
 * governs (each registers when it has applied the policy at start), and the
 * periodic sweep that makes the ledger exact.
 *
 * Each sweep fixes one `now`, and per table and rule counts the rows past
 * the rule's period by day, deletes exactly those rows (a lightweight
 * DELETE on the same condition: they vanish from every query at once, and
 * are removed from disk when their part is next merged), then records the
 * counts in retention_ledger (Source 'sweep'), through a journal that
 * finishes an interrupted sweep exactly once (journal.ts). The engine's own TTL is the
 * rule's period plus `ttl_grace`, so it only removes what no sweep reached
 * (the process was down): the sweep gets there first and counts it.
 */
import { randomUUID } from 'node:crypto';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { Counter, MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { ident } from '../clickhouse/schema.ts';
import { enforceRetention, planRetention, type EnforceResult, type RetentionPlan, type RetentionTarget } from './apply.ts';
import { ledgerInsertSql, ledgerName, ledgerTableSql, policyTableSql, type LedgerRow, type SqlRunner } from './ledger.ts';
import { intentDeleteSql, intentSql, journalTableSql, pendingIntents, type SweepIntent } from './journal.ts';
import { policyJson, type RetentionRule } from './policy.ts';
import { expiredSql, SHAPES } from './render.ts';

export interface RetentionOptions {
  rules: readonly RetentionRule[];
  sweepMs: number;
  graceMs: number;
  /** False: this process applies the policy and counts arrivals, but another one sweeps. Default true. */
  sweep?: boolean;
  /** Where retention_ledger lives (the store extension's database). */
  ledgerDatabase: string;
}

interface CountRow {
  day: string;
  rows: string;
  minTime: string;
  maxTime: string;
}

/** Attempts at writing a sweep's counts to the ledger. */
const LEDGER_ATTEMPTS = 4;

/** How often arrived-expired counts are read back from the ledger into the metric. */
const ARRIVED_POLL_MS = 15_000;

export class RetentionService {
  private readonly plans = new Map<string, RetentionPlan>();
  private db: SqlRunner | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private lastSweep = 0;
  /** RecordedAt (ms) up to which arrived-expired ledger rows are in the metric. */
  private arrivedUpTo = Date.now();
  private readonly counters = new Map<string, Counter>();

  constructor(
    readonly options: RetentionOptions,
    private readonly logger: Logger,
    private readonly metrics?: MetricsRegistry,
  ) {}

  /** Creates the ledger and starts the timer. */
  async start(db: SqlRunner): Promise<void> {
    this.db = db;
    await db.exec(`CREATE DATABASE IF NOT EXISTS ${ident(this.options.ledgerDatabase)}`);
    await db.exec(ledgerTableSql(this.options.ledgerDatabase));
    await db.exec(policyTableSql(this.options.ledgerDatabase));
    await db.exec(journalTableSql(this.options.ledgerDatabase));
    this.lastSweep = Date.now();
    // A sweep the last run left half done is finished now, not a sweep_interval later.
    if (this.options.sweep !== false) {
      await this.recover(db).catch((err: unknown) => this.logger.warn('retention: an interrupted sweep could not be finished yet; the next sweep retries', { error: err }));
    }
    this.timer = setInterval(() => void this.tick(), Math.min(this.options.sweepMs, ARRIVED_POLL_MS));
    this.timer.unref();
  }

  /** The rules and TTL a writer's table gets (throws with the reason on a conflict). */
  plan(t: RetentionTarget): RetentionPlan {
    return planRetention(this.options.rules, this.options.graceMs, t);
  }

  /** Applies a plan to the created table (the writer's connection) and includes the table in sweeps. */
  async enforce(db: SqlRunner, plan: RetentionPlan): Promise<EnforceResult> {
    const r = await enforceRetention(db, plan, this.options.ledgerDatabase);
    if (r.changed) this.logger.info('retention applied', { table: `${plan.target.database}.${plan.target.table}`, old_ttl: r.before, new_ttl: r.after });
    if (plan.rules.length) this.plans.set(`${plan.target.database}.${plan.target.table}`, plan);
    return r;
  }

  /** The governed tables (for tests and the CLI's view of what is in force). */
  get governed(): readonly RetentionPlan[] {
    return [...this.plans.values()];
  }

  private async tick(): Promise<void> {
    if (this.running) return;
    const due = this.options.sweep !== false && Date.now() - this.lastSweep >= this.options.sweepMs;
    this.running = (async () => {
      try {
        if (due) {
          this.lastSweep = Date.now();
          await this.sweep();
        }
        await this.pollArrived();
      } catch (err) {
        this.counter('trailhouse_retention_sweep_errors', 'Retention sweeps that failed (retried at the next interval).', {}).add(1);
        this.logger.warn('retention sweep failed; retrying at the next interval', { error: err });
      }
    })().finally(() => (this.running = undefined));
    await this.running;
  }

  /**
   * One sweep at `nowMs`: finishes what an earlier sweep left (the journal),
   * then counts, deletes and records the expired rows of every governed
   * table. Returns the ledger rows written.
   */
  async sweep(nowMs = Date.now()): Promise<LedgerRow[]> {
    const db = this.db;
    if (!db) throw new Error('retention: not started');
    const written = await this.recover(db);
    const nowSql = `toDateTime(${Math.floor(nowMs / 1000)})`;
    for (const plan of this.plans.values()) {
      const t = plan.target;
      const shape = SHAPES[t.kind];
      const name = `${ident(t.database)}.${ident(t.table)}`;
      const policy = policyJson(plan.rules);
      for (let i = 0; i < plan.rules.length; i++) {
        const rule = plan.rules[i]!;
        const where = expiredSql(plan.rules, i, shape, nowSql);
        const counts = await db.query<CountRow>(
          `SELECT toString(toDate(${shape.time})) AS day, toString(count()) AS rows, toString(min(${shape.stamp})) AS minTime, toString(max(${shape.stamp})) AS maxTime FROM ${name} WHERE ${where} GROUP BY day ORDER BY day`,
        );
        if (!counts.length) continue;
        const rows = counts.map((c): LedgerRow => ({ rule: rule.name, table: t.ruleTable, day: c.day, rows: c.rows, minTime: c.minTime, maxTime: c.maxTime, source: 'sweep' }));
        const intent: SweepIntent = { token: `sweep:${t.database}.${t.table}:${rule.name}:${nowMs}:${randomUUID()}`, database: t.database, table: t.table, kind: t.kind, rules: plan.rules, ruleIndex: i, nowMs, counts: rows };
        await db.exec(intentSql(this.options.ledgerDatabase, intent, 'intent', policy));
        await this.finish(db, intent, policy);
        written.push(...rows);
      }
    }
    return written;
  }

  /** Deletes an intent's rows, records its counts, and marks it done. */
  private async finish(db: SqlRunner, intent: SweepIntent, policy: string): Promise<void> {
    await db.exec(intentDeleteSql(intent));
    await this.record(db, intent.counts as LedgerRow[], intent.token);
    await db.exec(intentSql(this.options.ledgerDatabase, intent, 'done', policy));
    const rule = intent.rules[intent.ruleIndex]!;
    const n = intent.counts.reduce((a, r) => a + Number(r.rows), 0);
    this.counter('trailhouse_retention_expired_rows', 'Rows past their retention rule, counted into the ledger and deleted by the sweep.', { table: intent.counts[0]?.table ?? intent.table, rule: rule.name }).add(n);
  }

  /** Finishes every intent an interrupted sweep left; the ledger rows they wrote. */
  private async recover(db: SqlRunner): Promise<LedgerRow[]> {
    const out: LedgerRow[] = [];
    for (const intent of await pendingIntents(db, this.options.ledgerDatabase)) {
      this.logger.warn('retention: finishing an interrupted sweep', { token: intent.token });
      await this.finish(db, intent, policyJson(intent.rules));
      out.push(...intent.counts);
    }
    return out;
  }

  /**
   * Appends a sweep's counts to the ledger once the rows are gone, retried
   * under one dedup token (a retry of an insert that did land is dropped).
   * If the ledger stays unwritable the sweep fails with the counts logged,
   * and its journal intent is finished by the next sweep.
   */
  private async record(db: SqlRunner, rows: LedgerRow[], token: string): Promise<void> {
    const sql = ledgerInsertSql(this.options.ledgerDatabase, rows, token);
    for (let attempt = 1; ; attempt++) {
      try {
        await db.exec(sql);
        return;
      } catch (err) {
        if (attempt >= LEDGER_ATTEMPTS) {
          this.counter('trailhouse_retention_ledger_failures', 'Sweeps whose counts could not be written to the ledger yet (retried by the next sweep).', {}).add(1);
          this.logger.error('retention ledger not written; the next sweep retries', { rows, error: err });
          throw err;
        }
        await new Promise((res) => setTimeout(res, 250 * attempt));
      }
    }
  }

  /** Adds the arrived-expired rows the views recorded since the last poll to the metric. */
  async pollArrived(): Promise<void> {
    const db = this.db;
    if (!db) return;
    // Up to a second ago: the views write at insert time, so nothing older can still come.
    const upTo = Date.now() - 1000;
    if (upTo <= this.arrivedUpTo) return;
    const rows = await db.query<{ Table: string; Rule: string; n: string }>(
      `SELECT Table, Rule, toString(sum(Rows)) AS n FROM ${ledgerName(this.options.ledgerDatabase)} WHERE Source = 'arrived_expired' AND RecordedAt > fromUnixTimestamp64Milli(${this.arrivedUpTo}) AND RecordedAt <= fromUnixTimestamp64Milli(${upTo}) GROUP BY Table, Rule`,
    );
    this.arrivedUpTo = upTo;
    for (const r of rows) {
      this.counter('trailhouse_retention_arrived_expired_rows', 'Rows already past their retention rule when they arrived (stored until the next sweep deletes them).', { table: r.Table, rule: r.Rule }).add(Number(r.n));
    }
  }

  private counter(name: string, help: string, labels: Record<string, string>): Counter {
    const key = `${name}\0${JSON.stringify(labels)}`;
    let c = this.counters.get(key);
    if (!c) {
      c = this.metrics?.counter(name, help, labels) ?? { add: () => undefined, value: 0 };
      this.counters.set(key, c);
    }
    return c;
  }

  /** Stops the timer and waits for a sweep under way. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    await this.running;
  }
}
