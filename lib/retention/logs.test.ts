/**
 * Rules on log content (a namespace resource attribute, severity number and
 * text, service) on the exporter's real otel_logs table in the embedded
 * engine: the TTL is accepted, and the sweep removes exactly the rows each
 * rule governs, first match wins.
 */
import { expect, it } from 'vitest';
import { databaseSql, logsTableSql, type SchemaOptions } from '../clickhouse/schema.ts';
import { testLogger } from '../../test/helpers.ts';
import { db, useEngine } from './engine-fixture.ts';
import { ruleFor, type RetentionRule } from './policy.ts';
import { exclusiveConditions, quote, whereSql } from './render.ts';
import { RetentionService } from './sweep.ts';

const DAY = 86_400_000;
useEngine();

const RULES: RetentionRule[] = [
  { name: 'shop-debug', table: 'otel_logs', periodMs: 3 * DAY, where: { resource: { key: 'k8s.namespace.name', values: ['shop', "o'brien\\ns"] }, severityNumber: { min: 1, max: 8 } } },
  { name: 'warnings', table: 'otel_logs', periodMs: 3 * DAY, where: { severityText: ['WARN'] } },
  { name: 'access-logs', table: 'otel_logs', periodMs: 30 * DAY, where: { service: ['ingress'] } },
];

it('renders each matcher as its condition, exclusive of the earlier rules', () => {
  expect(whereSql(RULES[0]!.where)).toBe("(ResourceAttributes['k8s.namespace.name'] IN ('shop', 'o\\'brien\\\\ns')) AND (SeverityNumber BETWEEN 1 AND 8)");
  const conds = exclusiveConditions(RULES);
  expect(conds[1]).toBe(`((SeverityText = 'WARN')) AND (NOT (${whereSql(RULES[0]!.where)}))`);
  expect(conds[2]).toContain("(ServiceName = 'ingress')");
  expect(conds[2]).toContain('NOT ((SeverityText = \'WARN\'))');
});

it('applies to the exporter\'s otel_logs; the sweep removes what each rule governs, first match wins', async () => {
  const r = new RetentionService({ rules: RULES, sweepMs: 600_000, graceMs: DAY, ledgerDatabase: 'l1' }, testLogger());
  await r.start(db);
  const plan = r.plan({ database: 'l1', table: 'otel_logs', ruleTable: 'otel_logs', kind: 'logs', writerTtlMs: 0, writerTtlKey: 'exporters.clickhouse.ttl' });
  const o: SchemaOptions = { database: 'l1', logsTable: 'otel_logs', tracesTable: 'otel_traces', ttlMs: 0, clusterName: null, engine: { name: 'MergeTree', params: '' }, extraSettings: {}, retention: { logs: plan.ttl } };
  await db.exec(databaseSql(o));
  await db.exec(logsTableSql(o));
  expect((await r.enforce(db, plan)).changed).toBe(false);
  const now = Date.now();
  // [age in days, namespace, severity number, severity text, service]; 3.5 days: past the 3d rules, before their TTL (3d + 1d grace)
  const rows: [number, string, number, string, string][] = [
    [3.5, 'shop', 5, 'DEBUG', 'ingress'], // shop-debug: gone
    [3.5, "o'brien\\ns", 5, 'DEBUG', 'api'], // shop-debug (the hostile namespace): gone
    [3.5, 'shop', 9, 'INFO', 'api'], // no rule
    [3.5, 'other', 13, 'WARN', 'api'], // warnings: gone
    [3.5, 'shop', 13, 'WARN', 'ingress'], // warnings, not access-logs (first match): gone
    [10, 'other', 9, 'INFO', 'ingress'], // access-logs, not yet
    [2, 'shop', 5, 'DEBUG', 'api'], // shop-debug, not yet
  ];
  const values = rows.map(([age, ns, sn, st, svc]) => `(fromUnixTimestamp64Milli(${now - age * DAY}), ${sn}, ${quote(st)}, ${quote(svc)}, map('k8s.namespace.name', ${quote(ns)}))`);
  await db.exec(`INSERT INTO l1.otel_logs (Timestamp, SeverityNumber, SeverityText, ServiceName, ResourceAttributes) VALUES ${values.join(', ')}`);
  const written = await r.sweep(now);
  const byRule = (name: string) => written.filter((w) => w.rule === name).reduce((a, w) => a + Number(w.rows), 0);
  expect([byRule('shop-debug'), byRule('warnings'), byRule('access-logs')]).toEqual([2, 2, 0]);
  const left = await db.query<{ ServiceName: string; SeverityText: string; ns: string }>("SELECT ServiceName, SeverityText, ResourceAttributes['k8s.namespace.name'] AS ns FROM l1.otel_logs ORDER BY Timestamp");
  expect(left).toEqual([
    { ServiceName: 'ingress', SeverityText: 'INFO', ns: 'other' },
    { ServiceName: 'api', SeverityText: 'INFO', ns: 'shop' },
    { ServiceName: 'api', SeverityText: 'DEBUG', ns: 'shop' },
  ]);
  // ruleFor agrees with the engine on every row
  const names = rows.map(([, ns, sn, st, svc]) => ruleFor(RULES, 'otel_logs', { service: svc, severityNumber: sn, severityText: st, resource: { 'k8s.namespace.name': ns } })?.name ?? null);
  expect(names).toEqual(['shop-debug', 'shop-debug', null, 'warnings', 'warnings', 'access-logs', 'shop-debug']);
  await r.close();
});
