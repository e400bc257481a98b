/**
 * The embedded engine in a temp dir for the retention tests, and their
 * audit_events helpers. Call useEngine() at the top of a test file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import type { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { auditTableSql } from '../audit/schema.ts';
import { openStore, type StoreLease } from '../clickhouse/store.ts';
import { testLogger } from '../../test/helpers.ts';
import type { RetentionTarget } from './apply.ts';
import type { SqlRunner } from './ledger.ts';
import type { RetentionRule } from './policy.ts';
import { quote } from './render.ts';
import { RetentionService } from './sweep.ts';

export const DAY = 86_400_000;

/** The engine every helper here runs on (set by useEngine's beforeAll). */
export let db: SqlRunner;
export let lease: StoreLease;

export function useEngine(): void {
  let dir: string;
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'th-retention-'));
    lease = openStore({ endpoint: null, path: dir, username: '', password: '' });
    await lease.store.ready();
    const s = lease.store;
    db = { exec: (sql) => s.command(sql), query: <T>(sql: string) => s.queryRows<T>(sql) };
  }, 60_000);
  afterAll(async () => {
    await lease?.release();
    rmSync(dir, { recursive: true, force: true });
  });
}

export const audit = (database: string, table = 'audit_events'): RetentionTarget => ({ database, table, ruleTable: table, kind: 'audit', writerTtlMs: 0, writerTtlKey: 'processors.audit.ttl' });

export function service(rules: RetentionRule[], database: string, metrics?: MetricsRegistry, graceMs = DAY, lines?: string[]): RetentionService {
  return new RetentionService({ rules, sweepMs: 600_000, graceMs, ledgerDatabase: database }, testLogger(lines), metrics);
}

export const POLICY: RetentionRule[] = [
  { name: 'authz-denials', table: 'audit_events', periodMs: 730 * DAY, where: { category: ['authorization'], outcome: ['denied'] } },
  { name: 'audit', table: 'audit_events', periodMs: 400 * DAY, where: {} },
];

/** audit_events in `database`, created with the service's policy and enforced. */
export async function createAudit(r: RetentionService, database: string) {
  await db.exec(`CREATE DATABASE IF NOT EXISTS ${database}`);
  const plan = r.plan(audit(database));
  await db.exec(auditTableSql({ database, table: 'audit_events', ttlMs: 0, retention: plan.ttl }));
  return { plan, result: await r.enforce(db, plan) };
}

/** An audit row `ageDays` old, as SQL VALUES. */
export const row = (ageDays: number, category: string, outcome: string, now = Date.now()) =>
  `(fromUnixTimestamp64Milli(${now - ageDays * DAY}), ${quote(category)}, 'a', ${quote(outcome)}, '', '', '', '', '', '', '', 'svc', map())`;

export async function insertAudit(database: string, rows: string[]): Promise<void> {
  await db.exec(`INSERT INTO ${database}.audit_events (Timestamp, Category, Action, Outcome, Principal, Source, Destination, Resource, Policy, TraceId, SpanId, ServiceName, Details) VALUES ${rows.join(', ')}`);
}
