import fs from 'node:fs';
import os from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreateSettings } from '../../core/component.ts';
import { cloneLogs, emptyScope, newLogRecord } from '../../core/model.ts';
import { Payload, type LogsPayload } from '../../core/payload.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { AuditProcessor } from './audit.ts';
import { defaultAuditConfig, type AuditConfig } from './config.ts';
import { openSqlStore, type SqlStoreHandle } from '../../lib/clickhouse/sql-store.ts';
import { ENVOY_RBAC_DENIED, ISTIO_LINES, SPAN, TRACE, envoyOtel, istioText, k8sAuthorizationPolicyPatch } from './testdata/fixtures.ts';

const dir = fs.mkdtempSync(os.tmpdir() + '/th-audit-');
const where = { endpoint: null, path: dir, username: '', password: '' };
let reader: SqlStoreHandle;

function payload(): LogsPayload {
  return Payload.logs({
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: 'httpbin' }], droppedAttributesCount: 0 },
        schemaUrl: '',
        scopeLogs: [
          {
            scope: emptyScope(),
            schemaUrl: '',
            logRecords: [
              envoyOtel(ENVOY_RBAC_DENIED),
              istioText(ISTIO_LINES.ok200),
              istioText(ISTIO_LINES.extAuthzDenied),
              newLogRecord({ body: JSON.stringify(k8sAuthorizationPolicyPatch()) }),
            ],
          },
        ],
      },
    ],
  });
}

function make(next: (d: LogsPayload) => Promise<void>, metrics = new MetricsRegistry()) {
  const config: AuditConfig = { ...defaultAuditConfig(), ...where };
  const settings: CreateSettings<AuditConfig> = { id: 'audit', config, logger: silentLogger, metrics };
  return new AuditProcessor(settings, { logs: { consumeLogs: next } });
}

beforeAll(async () => {
  reader = openSqlStore(where);
});
afterAll(async () => {
  await reader.release();
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('audit processor with chDB', () => {
  it('passes payloads through unchanged and writes the events, once per dedup token', async () => {
    const seen: LogsPayload[] = [];
    const metrics = new MetricsRegistry();
    const p = make(async (d) => void seen.push(d), metrics);
    await p.start({} as never);
    const data = payload();
    data.dedupToken = 'logs-0-100';
    const before = cloneLogs(data.records());
    await p.consumeLogs(data);
    expect(seen).toHaveLength(1);
    expect(seen[0]).toBe(data);
    expect(seen[0]!.records()).toEqual(before);
    expect(seen[0]!.dedupToken).toBe('logs-0-100');

    const rows = await reader.store.query<Record<string, unknown>>(
      'SELECT toString(Timestamp) AS t, Category, Action, Outcome, Principal, Source, Destination, Resource, Policy, TraceId, SpanId, ServiceName, Details FROM otel.audit_events ORDER BY Timestamp, Category',
    );
    expect(rows.map((r) => [r.Category, r.Action, r.Outcome, r.Principal, r.Resource, r.Policy])).toEqual([
      ['configuration', 'patch', 'success', 'alice@example.com', 'authorizationpolicies.security.istio.io/foo/deny-admin', 'RoleBinding/mesh-admins/foo'],
      ['authorization', 'rbac', 'denied', 'spiffe://cluster.local/ns/foo/sa/sleep', '/admin/users', 'ns[foo]-policy[deny-admin]-rule[0]'],
      ['sensitive_access', 'access', 'denied', 'spiffe://cluster.local/ns/foo/sa/sleep', '/admin/users', ''],
      ['authorization', 'ext_authz', 'denied', '', '/api/orders', ''],
    ]);
    expect(rows[1]).toMatchObject({
      t: '2024-05-14 09:12:03.456000000',
      Source: '10.244.0.12:51234',
      Destination: 'httpbin.foo:8000',
      TraceId: TRACE,
      SpanId: SPAN,
      ServiceName: 'httpbin',
      Details: expect.objectContaining({ policy_name: 'deny-admin', policy_namespace: 'foo', status_code: '403', format: 'envoy' }),
    });
    expect((rows[0]!.Details as Record<string, string>).change).toContain('"action":"ALLOW"');
    expect(metrics.read('trailhouse_audit_events', { processor: 'audit', category: 'authorization' })).toBe(2);

    // Kafka redelivers the same offsets: the same token, no second copy.
    const again = payload();
    again.dedupToken = 'logs-0-100';
    await p.consumeLogs(again);
    expect(Number((await reader.store.query<{ n: number }>('SELECT count() AS n FROM otel.audit_events'))[0]!.n)).toBe(4);
    // A different payload with the same records is new data.
    const other = payload();
    other.dedupToken = 'logs-0-200';
    await p.consumeLogs(other);
    expect(Number((await reader.store.query<{ n: number }>('SELECT count() AS n FROM otel.audit_events'))[0]!.n)).toBe(8);
    await p.shutdown();
    await p.shutdown();
  });

  it('settles only after downstream accepted: its failure travels back', async () => {
    const p = make(async () => {
      throw new Error('exporter queue full');
    });
    await p.start({} as never);
    await expect(p.consumeLogs(payload())).rejects.toThrow('exporter queue full');
    await p.shutdown();
    await expect(p.consumeLogs(payload())).rejects.toThrow(/not running/);
  });
});
