/**
 * Retention through the pipeline: a `retention` policy on the store
 * extension governs the exporter's, audit's and correlate's tables; a policy
 * change at restart alters the tables and is stored as a `configuration`
 * audit event; records already past their rule are counted in the ledger.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../components.ts';
import { loadConfigText } from '../core/config/load.ts';
import { Service } from '../core/service.ts';
import { retentionCommand } from '../bin/commands/retention.ts';
import type { RetentionService } from '../lib/retention/sweep.ts';
import { testLogger } from './helpers.ts';
import { startService } from './service.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-retention-e2e-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DAY = 86_400_000;

const pipeline = (rules: string, extra = '') => `
extensions:
  clickhouse_store:
    path: ${dir}
    query_endpoint: "127.0.0.1:0"
    retention:
      rules:
${rules}
receivers:
  otlp:
    protocols: {http: {endpoint: "127.0.0.1:0"}}
processors:
  correlate: {store: clickhouse_store, wait: 50ms}
  audit: {store: clickhouse_store${extra}}
exporters:
  clickhouse: {store: clickhouse_store, sending_queue: {enabled: false}}
service:
  extensions: [clickhouse_store]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [correlate, audit], exporters: [clickhouse]}
    traces: {receivers: [otlp], processors: [correlate], exporters: [clickhouse]}
`;

const RULES_V1 = `
        - {name: authz-denials, table: audit_events, match: {category: authorization, outcome: denied}, period: 730d}
        - {name: audit, table: audit_events, period: 400d}
        - {name: access-logs, table: otel_logs, match: {service: frontend}, period: 30d}
        - {name: spans, table: otel_traces, period: 7d}
        - {name: summaries, table: trace_summary, period: 7d}`;

const RULES_V2 = RULES_V1.replace('period: 730d', 'period: 365d');

function log(service: string, ageMs: number): string {
  const attr = (key: string, value: object) => ({ key, value });
  return JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: [attr('service.name', { stringValue: service })] },
        scopeLogs: [{ scope: { name: 'envoy' }, logRecords: [{ timeUnixNano: String(BigInt(Date.now() - ageMs) * 1_000_000n), body: { stringValue: 'GET /' }, attributes: [attr('http.response.status_code', { intValue: '200' })] }] }],
      },
    ],
  });
}

describe('retention through the pipeline', () => {
  it('governs every writer\'s table; counts records that arrive expired', async () => {
    const r = await startService(pipeline(RULES_V1));
    try {
      const ttl = await r.rows<{ Table: string; Ttl: string; rules: string[] }>(
        'SELECT Table, argMax(Ttl, AppliedAt) AS Ttl, arrayMap(x -> x.1, argMax(Rules, AppliedAt)) AS rules FROM otel.retention_policy GROUP BY Table ORDER BY Table',
      );
      expect(ttl.map((t) => [t.Table, t.rules])).toEqual([
        ['audit_events', ['authz-denials', 'audit']],
        ['otel_logs', ['access-logs']],
        ['otel_traces', ['spans']],
        ['otel_traces_trace_id_ts', ['spans']],
        ['trace_summary_parts', ['summaries']],
      ]);
      expect(ttl.find((t) => t.Table === 'otel_logs')!.Ttl).toBe("TimestampTime + toIntervalDay(31) WHERE (ServiceName = 'frontend')");
      // a log 40 days old from frontend: past access-logs on arrival, counted by the engine
      for (const [svc, age] of [['frontend', 40 * DAY], ['frontend', DAY], ['api', 40 * DAY]] as const) {
        const res = await fetch(`http://${r.otlp.http!.address}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: log(svc, age) });
        expect(res.status).toBe(200);
      }
      const ledger = await r.waitRows<{ Rule: string; Table: string; n: string }>(
        "SELECT Rule, Table, toString(sum(Rows)) AS n FROM otel.retention_ledger WHERE Source = 'arrived_expired' GROUP BY Rule, Table",
        (rows) => rows.length > 0,
        'the arrived-expired count',
      );
      expect(ledger).toEqual([{ Rule: 'access-logs', Table: 'otel_logs', n: '1' }]);
      // the first application of the policy to each table is in the audit trail
      const first = await r.waitRows<{ Resource: string; old: string }>(
        "SELECT Resource, Details['old_policy'] AS old FROM otel.audit_events WHERE Category = 'configuration' AND Action = 'retention.update' ORDER BY Resource",
        (rows) => rows.length === 5,
        'the configuration events',
      );
      expect(first).toEqual(['otel.audit_events', 'otel.otel_logs', 'otel.otel_traces', 'otel.otel_traces_trace_id_ts', 'otel.trace_summary_parts'].map((Resource) => ({ Resource, old: '' })));
    } finally {
      await r.stop();
    }
  });

  it('a changed policy alters the existing table at restart, recorded as a configuration audit event', async () => {
    const r = await startService(pipeline(RULES_V2));
    try {
      const events = await r.waitRows<{ Action: string; Outcome: string; Principal: string; Resource: string; Details: Record<string, string> }>(
        "SELECT Action, Outcome, Principal, Resource, Details FROM otel.audit_events WHERE Category = 'configuration' AND Details['old_policy'] != ''",
        (rows) => rows.length > 0,
        'the configuration event',
        20_000,
      );
      expect(events).toHaveLength(1);
      const e = events[0]!;
      expect(e).toMatchObject({ Action: 'retention.update', Outcome: 'success', Resource: 'otel.audit_events' });
      expect(e.Principal).not.toBe('');
      expect(e.Details.old_ttl).toContain('toIntervalDay(731)');
      expect(e.Details.new_ttl).toContain('toIntervalDay(366)');
      expect(e.Details.rules).toBe('authz-denials,audit');
    } finally {
      await r.stop();
    }
  });

  it('`trailhouse retention` shows the rules in force and the ledger, after a sweep', async () => {
    const r = await startService(pipeline(RULES_V2));
    try {
      const ext = (r.service as unknown as { extensions: { id: string; component: { retention?: RetentionService } }[] }).extensions.find((e) => e.id === 'clickhouse_store')!;
      const swept = await ext.component.retention!.sweep(Date.now() + 31 * DAY);
      expect(swept.filter((w) => w.rule === 'access-logs').length).toBeGreaterThan(0);
      expect(await r.rows("SELECT * FROM otel.otel_logs WHERE ServiceName = 'frontend'")).toEqual([]);
      const io = { text: '', err: '' };
      const cap = { out: (s: string) => void (io.text += s), err: (s: string) => void (io.err += s) };
      const code = await retentionCommand(['--endpoint', r.queryUrl], cap);
      expect({ code, err: io.err }).toEqual({ code: 0, err: '' });
      expect(io.text).toContain('otel.audit_events, applied');
      expect(io.text).toContain("1. authz-denials  365d  (Category = 'authorization') AND (Outcome = 'denied')");
      expect(io.text).toContain('otel.trace_summary_parts (rules of trace_summary)');
      expect(io.text).toMatch(/access-logs\s+arrived_expired\s+1/);
      expect(io.text).toMatch(/access-logs\s+sweep\s+\d/);
      io.text = '';
      expect(await retentionCommand(['--endpoint', r.queryUrl, '--json'], cap)).toBe(0);
      const json = JSON.parse(io.text) as { tables: { table: string; rules: { name: string; periodSeconds: number }[] }[]; ledger: { rule: string; source: string; rows: number }[] };
      expect(json.tables.find((t) => t.table === 'audit_events')!.rules).toEqual([
        expect.objectContaining({ name: 'authz-denials', periodSeconds: 365 * 86_400 }),
        expect.objectContaining({ name: 'audit', periodSeconds: 400 * 86_400 }),
      ]);
      expect(json.ledger).toContainEqual(expect.objectContaining({ rule: 'access-logs', source: 'arrived_expired', rows: 1 }));
      expect(await retentionCommand(['--endpoint', r.queryUrl, '--since', 'soon'], cap)).toBe(2);
      expect(io.err).toContain('--since: expected a duration like 30d or 12h, got "soon"');
    } finally {
      await r.stop();
    }
  });

  it('refuses a writer ttl beside rules for its table, at start, with the reason', async () => {
    const service = new Service(loadConfigText(pipeline(RULES_V1, ', ttl: 24h'), builtinRegistry(), {}), { logger: testLogger() });
    await expect(service.start()).rejects.toThrow(/processors\.audit\.ttl and the store's retention rules \(authz-denials, audit\) both govern audit_events/);
    await service.shutdown();
  });

  it('refuses unknown keys and bad rules in the config, with their paths', () => {
    expect(() => loadConfigText(pipeline(`        - {name: a, table: audit_events, period: 1d, match: {severity: 3}}\n        - {name: a, table: otel_logs, period: soon}`), builtinRegistry(), {})).toThrow(
      /extensions\.clickhouse_store\.retention\.rules\[0\]\.match\.severity: unknown key[\s\S]*retention\.rules\[1\]\.period: expected a duration/,
    );
    expect(() => loadConfigText(pipeline(`        - {name: x, table: audit_events, period: 1d, match: {severity_text: INFO}}`), builtinRegistry(), {})).toThrow(
      /retention\.rules: rule "x": table audit_events has no severityText to match/,
    );
  });

  it('the auditor role reads the ledger and the policy in force, not the logs', async () => {
    const yaml = pipeline(RULES_V2).replace('    query_endpoint: "127.0.0.1:0"\n', `    query_endpoint: "127.0.0.1:0"\n    query_users: {soc2: {password_sha256_hex: ${createHash('sha256').update('pw').digest('hex')}, role: auditor}}\n`);
    const r = await startService(yaml);
    try {
      const ask = async (sql: string) => {
        const res = await fetch(`${r.queryUrl}/?database=otel`, { method: 'POST', body: sql, headers: { 'X-ClickHouse-User': 'soc2', 'X-ClickHouse-Key': 'pw' } });
        return { status: res.status, body: await res.text() };
      };
      expect(await ask('SELECT count() FROM retention_ledger')).toMatchObject({ status: 200 });
      expect(await ask('SELECT count() FROM retention_policy')).toMatchObject({ status: 200 });
      const logs = await ask('SELECT count() FROM otel_logs');
      expect(logs.status).toBe(403);
      expect(logs.body).toContain('auditor role');
    } finally {
      await r.stop();
    }
  });
});
