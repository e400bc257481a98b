/**
 * The Merkle log over otel_logs across retention, on the embedded engine:
 * a retention rule on otel_logs removes covered rows (they arrive already
 * past it, so the sweep deletes them), their leaf records stay, and
 * `trailhouse verify --table otel_logs` reports them "expired under rule R"
 * — by the policy the audit trail recorded (its retention.update event,
 * proven by the audit trail's own checkpoints) — and exits 0. Deleting a
 * row no rule explains still fails.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqlStore, type SqlStoreHandle } from '../lib/clickhouse/sql-store.ts';
import { verifyCommand } from '../bin/commands/verify.ts';
import { readWitnessFile } from '../lib/audit/witness.ts';
import { waitFor } from './helpers.ts';
import { startInTempDir, type RunningService } from './service.ts';

let running: RunningService & { dir: string };
let handle: SqlStoreHandle;
let witness: string;
let verifiers: string;

interface Json {
  ok: boolean;
  findings: { kind: string; index?: number; end?: number; rule?: string; failure: boolean; detail: string }[];
}

async function verify(): Promise<{ code: number; json: Json; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await verifyCommand(['--endpoint', running.queryUrl, '--checkpoints', witness, '--pubkey', verifiers, '--table', 'otel_logs', '--json'], {
    out: (s) => void out.push(s),
    err: (s) => void err.push(s),
  });
  return { code, json: JSON.parse(out.join('')) as Json, err: err.join('') };
}

beforeAll(async () => {
  running = await startInTempDir(
    'th-logs-retention-',
    (dir) => `
extensions:
  clickhouse_store:
    path: ${dir}
    query_endpoint: "127.0.0.1:0"
    retention:
      sweep_interval: 1s
      rules:
        - {name: old-debug, table: otel_logs, match: {severity_text: [DEBUG]}, period: 1d}
receivers:
  otlp:
    protocols: {http: {endpoint: "127.0.0.1:0"}}
processors:
  audit:
    store: clickhouse_store
    integrity: {checkpoint_interval: 1s}
exporters:
  clickhouse:
    store: clickhouse_store
    sending_queue: {enabled: false}
    integrity: {enabled: true, services: [checkout], checkpoint_interval: 1s}
service:
  extensions: [clickhouse_store]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [audit], exporters: [clickhouse]}
`,
  );
  witness = join(running.dir, 'witness', 'audit-checkpoints.jsonl');
  verifiers = join(running.dir, 'keys', 'verifiers');
  handle = openSqlStore({ endpoint: null, path: running.dir, username: 'default', password: '' });
  const records = Array.from({ length: 8 }, (_, i) => ({
    timeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i) * 1_000_000_000n),
    severityText: i % 2 ? 'DEBUG' : 'INFO',
    body: { stringValue: `step ${i}` },
  }));
  const res = await fetch(`http://${running.otlp.http!.address}/v1/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'checkout' } }] }, scopeLogs: [{ logRecords: records }] }] }),
  });
  expect(res.status).toBe(200);
  await running.waitRows<{ n: string }>("SELECT toString(count()) AS n FROM otel.otel_logs_log_leaves", (r) => r[0]!.n === '8', 'the leaf records');
  await running.waitRows<{ n: string }>("SELECT toString(count()) AS n FROM otel.otel_logs WHERE SeverityText = 'DEBUG'", (r) => r[0]!.n === '0', 'the sweep', 30_000);
  await running.waitRows<{ n: string }>(
    "SELECT toString(count()) AS n FROM otel.audit_events WHERE Action = 'retention.update' AND Details['resource'] = 'otel.otel_logs' AND LogOrigin != ''",
    (r) => r[0]!.n === '1',
    'the retention.update event of otel_logs',
    30_000,
  );
  // Both logs checkpointed up to what they hold.
  const [audit] = await running.rows<{ n: string }>('SELECT toString(count()) AS n FROM otel.audit_events_log_leaves');
  await waitFor(() => readWitnessFile(witness).records.some((r) => r.origin.endsWith('otel.audit_events') && r.size >= Number(audit!.n)), 20_000, 'a checkpoint of every audit leaf');
  await waitFor(() => readWitnessFile(witness).records.some((r) => r.origin.endsWith('otel.otel_logs') && r.size === 8), 20_000, 'a checkpoint of every log leaf');
}, 120_000);

afterAll(async () => {
  await handle?.release();
  await running?.stop();
});

describe('verify --table otel_logs across retention', () => {
  it('rows a rule removed are "expired under rule R", and verify exits 0', async () => {
    const { code, json, err } = await verify();
    expect(err).toBe('');
    expect(json.findings.filter((f) => f.failure)).toEqual([]);
    expect(code).toBe(0);
    const expired = json.findings.filter((f) => f.kind === 'expired');
    expect(expired.map((f) => [f.index, f.rule])).toEqual([[1, 'old-debug'], [3, 'old-debug'], [5, 'old-debug'], [7, 'old-debug']]);
  });

  it('a row deleted that no rule explains is still tampering', async () => {
    await handle.store.exec("ALTER TABLE otel.otel_logs DELETE WHERE ServiceName = 'checkout' AND Body = 'step 2' SETTINGS mutations_sync = 2");
    const { code, json } = await verify();
    expect(code).toBe(1);
    expect(json.findings.filter((f) => f.failure).map((f) => [f.kind, f.index])).toEqual([['deleted', 2]]);
  });
});
