/**
 * The processors' own tables (audit_events, trace_summary_parts) take Native
 * blocks on the embedded engine and JSONEachRow on a server: the same rows
 * inserted both ways into twin tables must read back identical.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore, type Store, type StoreLease } from '../lib/clickhouse/index.ts';
import { AUDIT_COLUMNS, auditNative, auditRow, auditTableSql, type AuditRow } from '../lib/audit/schema.ts';
import { summaryNative, summaryRows, type SummaryPart } from '../processors/correlate/enrich.ts';
import { PARTS_COLUMNS, summaryStatements } from '../processors/correlate/schema.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-native-rows-'));
let lease: StoreLease;
let store: Store;

beforeAll(async () => {
  lease = openStore({ endpoint: null, path: dir, username: '', password: '' });
  store = lease.store;
  await store.ready();
  await store.command('CREATE DATABASE IF NOT EXISTS otel');
  for (const t of ['a_json', 'a_native']) await store.command(auditTableSql({ database: 'otel', table: t, ttlMs: 0 }));
  for (const t of ['s_json', 's_native']) for (const sql of summaryStatements({ database: 'otel', table: t, auditTable: '', ttlMs: 0 })) await store.command(sql);
});

afterAll(async () => {
  await lease.release();
  fs.rmSync(dir, { recursive: true, force: true });
});

function part(i: number): [string, SummaryPart] {
  return [
    i.toString(16).padStart(32, '0'),
    {
      startNs: i % 3 ? 1_700_000_000_000_000_000n + BigInt(i) : 0n,
      endNs: i % 3 ? 1_700_000_000_500_000_000n + BigInt(i) : 0n,
      rootService: i % 2 ? `svc-${i}` : '',
      rootName: i % 2 ? `GET /é/${i}` : '',
      rootStartNs: i % 2 ? 1_700_000_000_000_000_000n : 0n,
      spanIds: Array.from({ length: i % 4 }, (_, k) => (i * 10 + k).toString(16).padStart(16, '0')),
      errorSpanIds: i % 5 === 0 ? ['00000000000000ff'] : [],
      services: i % 4 ? ['frontend', `svc-${i % 3}`] : [],
      logIds: Array.from({ length: i % 6 }, (_, k) => 2 ** 52 + i * 100 + k),
    },
  ];
}

function auditRows(n: number): AuditRow[] {
  return Array.from({ length: n }, (_, i) => ({
    event: {
      time: i % 4 ? 1_700_000_000_000_000_000n + BigInt(i) : 0n,
      category: (['authorization', 'authentication', 'configuration', 'sensitive_access'] as const)[i % 4]!,
      action: i % 2 ? 'http.request' : 'mtls.handshake',
      outcome: i % 3 ? 'denied' : 'allowed',
      principal: i % 2 ? 'spiffe://cluster.local/ns/foo/sa/sleep' : '',
      source: '10.0.0.1:4567',
      destination: 'httpbin.foo',
      resource: `/admin/ü/${i}`,
      policy: i % 5 ? '' : 'ns[foo]-policy[deny-admin]-rule[0]',
      traceId: i % 3 ? i.toString(16).padStart(32, 'a') : '',
      spanId: i % 3 ? i.toString(16).padStart(16, 'b') : '',
      details: (i % 2 ? { method: 'GET', status_code: '403', note: 'tab\t"quote"' } : {}) as Record<string, string>,
    },
    service: i % 2 ? 'httpbin.foo' : '',
    fallbackTime: 1_600_000_000_000_000_000n,
  }));
}

describe('processor rows, Native and JSONEachRow', () => {
  it('trace_summary_parts: the same partial rows either way', async () => {
    const parts = Array.from({ length: 40 }, (_, i) => part(i + 1));
    await store.insert({ table: 'otel.s_json_parts', columns: PARTS_COLUMNS, format: 'JSONEachRow', body: Buffer.from(summaryRows(parts).join('\n')), settings: {} });
    await store.insert({ table: 'otel.s_native_parts', columns: PARTS_COLUMNS, format: 'Native', block: summaryNative(parts), settings: {} });
    const read = (t: string) => store.queryRows(`SELECT * EXCEPT LastUpdate FROM otel.${t}_parts ORDER BY TraceId`);
    const [a, b] = [await read('s_json'), await read('s_native')];
    expect(b).toHaveLength(40);
    expect(b).toEqual(a);
    const view = (t: string) => store.queryRows(`SELECT * EXCEPT Updated FROM otel.${t} ORDER BY TraceId`);
    expect(await view('s_native')).toEqual(await view('s_json'));
    expect(b.filter((r) => (r.LogIds as unknown[]).length === 5)).toHaveLength(6);
  });

  it('audit_events: the same rows either way', async () => {
    const rows = auditRows(30);
    await store.insert({ table: 'otel.a_json', columns: AUDIT_COLUMNS, format: 'JSONEachRow', body: Buffer.from(rows.map(auditRow).join('\n')), settings: {} });
    await store.insert({ table: 'otel.a_native', columns: AUDIT_COLUMNS, format: 'Native', block: auditNative(rows), settings: {} });
    const read = (t: string) => store.queryRows(`SELECT * FROM otel.${t} ORDER BY Timestamp, Resource`);
    const [a, b] = [await read('a_json'), await read('a_native')];
    expect(b).toHaveLength(30);
    expect(b).toEqual(a);
    expect(b.filter((r) => (r.Details as Record<string, string>).note === 'tab\t"quote"')).toHaveLength(15);
  });
});
