/**
 * Retention expiry verifies clean, on the embedded engine: a retention rule
 * removes audit rows (they arrive already past it, so the sweep deletes
 * them), their leaf records stay, and `trailhouse verify` reports them
 * "expired under rule R" — by the policy the audit trail itself recorded
 * (the retention.update event) — and exits 0. Deleting a row no rule
 * explains still fails.
 */
import { readWitnessFile } from '../lib/audit/witness.ts';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSqlStore, type SqlStoreHandle } from '../lib/clickhouse/sql-store.ts';
import { verifyCommand } from '../bin/commands/verify.ts';
import { waitFor } from './helpers.ts';
import { startInTempDir, type RunningService } from './service.ts';

let running: RunningService & { dir: string };
let handle: SqlStoreHandle;
let witness: string;
let verifiers: string;
const RECORDS = 6;

interface Json {
  ok: boolean;
  findings: { kind: string; index?: number; end?: number; rule?: string; failure: boolean; detail: string }[];
  summary: { failures: number; rowsValid: number; rows: number };
}

async function verify(): Promise<{ code: number; json: Json }> {
  const out: string[] = [];
  const io = { out: (s: string) => void out.push(s), err: () => undefined };
  const code = await verifyCommand(['--endpoint', running.queryUrl, '--checkpoints', witness, '--pubkey', verifiers, '--json'], io);
  return { code, json: JSON.parse(out.join('')) as Json };
}

beforeAll(async () => {
  running = await startInTempDir(
    'th-verify-retention-',
    (dir) => `
extensions:
  clickhouse_store:
    path: ${dir}
    query_endpoint: "127.0.0.1:0"
    retention:
      sweep_interval: 1s
      rules:
        - {name: old-sensitive, table: audit_events, match: {category: sensitive_access}, period: 1d}
receivers:
  otlp:
    protocols: {http: {endpoint: "127.0.0.1:0"}}
processors:
  audit:
    store: clickhouse_store
    integrity: {checkpoint_interval: 1s}
exporters:
  clickhouse: {store: clickhouse_store, sending_queue: {enabled: false}}
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
  const records = Array.from({ length: RECORDS }, (_, i) => ({
    timeUnixNano: String(1_700_000_000_000_000_000n + BigInt(i) * 1_000_000_000n),
    body: { stringValue: `GET /admin/users/${i} 403` },
    attributes: [
      { key: 'http.response.status_code', value: { intValue: '403' } },
      { key: 'url.path', value: { stringValue: `/admin/users/${i}` } },
      { key: 'response_code_details', value: { stringValue: 'rbac_access_denied_matched_policy[ns[default]-policy[deny-admin]-rule[0]]' } },
    ],
  }));
  const res = await fetch(`http://${running.otlp.http!.address}/v1/logs`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ resourceLogs: [{ resource: { attributes: [{ key: 'service.name', value: { stringValue: 'istio-ingressgateway' } }] }, scopeLogs: [{ logRecords: records }] }] }),
  });
  expect(res.status).toBe(200);
  // The authorization rows stay (no rule); the sensitive_access ones are swept.
  await running.waitRows<{ n: string }>(
    "SELECT toString(count()) AS n FROM otel.audit_events WHERE Category = 'authorization'",
    (r) => Number(r[0]!.n) === RECORDS,
    'the authorization rows',
  );
  await running.waitRows<{ n: string }>("SELECT toString(count()) AS n FROM otel.audit_events WHERE Category = 'sensitive_access'", (r) => r[0]!.n === '0', 'the sweep', 30_000);
  // The policy's retention.update event (written by the security event writer, every 5 s), in the log.
  await running.waitRows<{ n: string }>(
    "SELECT toString(count()) AS n FROM otel.audit_events WHERE Action = 'retention.update' AND Details['resource'] = 'otel.audit_events' AND LogOrigin != ''",
    (r) => r[0]!.n === '1',
    'the retention.update event',
    30_000,
  );
  const [leaves] = await running.rows<{ n: string }>('SELECT toString(count()) AS n FROM otel.audit_events_log_leaves');
  await waitFor(() => readWitnessFile(witness).records.some((r) => r.size >= Number(leaves!.n)), 20_000, 'a checkpoint of every leaf');
}, 120_000);

afterAll(async () => {
  await handle?.release();
  await running?.stop();
});

describe('verify across retention', () => {
  it('rows a rule removed are "expired under rule R", and verify exits 0', async () => {
    const { code, json } = await verify();
    expect(json.findings.filter((f) => f.failure)).toEqual([]);
    expect(code).toBe(0);
    const expired = json.findings.filter((f) => f.kind === 'expired');
    expect(expired.length).toBeGreaterThan(0);
    expect(expired.every((f) => f.rule === 'old-sensitive')).toBe(true);
    expect(expired.reduce((n, f) => n + (f.end! - f.index!), 0)).toBe(RECORDS);
  });

  it('a row deleted that no rule explains is still tampering', async () => {
    await handle.store.exec("ALTER TABLE otel.audit_events DELETE WHERE Category = 'authorization' AND Resource = '/admin/users/2' SETTINGS mutations_sync = 2");
    const { code, json } = await verify();
    expect(code).toBe(1);
    expect(json.findings.filter((f) => f.failure).map((f) => f.kind)).toEqual(['deleted']);
  });
});
