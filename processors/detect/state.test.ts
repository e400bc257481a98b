// Detector state in the store (the real embedded engine): written by the
// processor, read back at start (a restart neither re-learns nor re-alerts),
// and merged across ingesters that share the table.
import fs from 'node:fs';
import os from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import type { Host } from '../../core/component.ts';
import { Payload } from '../../core/payload.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { openSqlStore } from '../../lib/clickhouse/sql-store.ts';
import { compileRules } from '../../lib/audit/classify.ts';
import { defaultAuditRules } from '../../lib/audit/rules.ts';
import { shareAuditRules } from '../../lib/audit/shared-rules.ts';
import { CART, access, logsOf } from '../../test/mesh-traffic.ts';
import { defaultDetectConfig } from './config.ts';
import { DetectProcessor } from './detect.ts';
import { Clock, RecordingSink } from './testdata/rows.ts';

const dir = fs.mkdtempSync(os.tmpdir() + '/th-detect-state-');
const where = { endpoint: null, path: dir, username: '', password: '' };
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const H = 3_600_000;
const clock = new Clock();

function host(): Host {
  const h: Host = {
    logger: silentLogger,
    metrics: new MetricsRegistry(),
    getExtension: (id) => (id === 'clickhouse_store' ? ({ kind: 'clickhouse_store', storeOptions: () => where, database: 'otel', start: async () => {}, shutdown: async () => {} } as never) : undefined),
    reportFatal: () => {},
  };
  shareAuditRules(h, 'audit', compileRules(defaultAuditRules()));
  return h;
}

async function processor(ingester: string, sink: RecordingSink): Promise<DetectProcessor> {
  const config = { ...defaultDetectConfig(), store: 'clickhouse_store', ingester, learning_period: H, persist_interval: 3_600_000 };
  const p = new DetectProcessor({ id: 'detect', config, logger: silentLogger, metrics: new MetricsRegistry() }, { logs: { consumeLogs: async () => {} } }, { now: clock.now, sink });
  await p.start(host());
  return p;
}

async function see(p: DetectProcessor, path: string): Promise<void> {
  await p.consumeLogs(Payload.logs(logsOf([access({ principal: CART, authority: 'orders:8080', path, enforced: 'allowed' })])));
  await new Promise((r) => setImmediate(r));
}

describe('detector state in the store', () => {
  it('merges across ingesters, and a restart keeps learning and first-seen keys', async () => {
    const sa = new RecordingSink();
    const sb = new RecordingSink();
    const a = await processor('ingester-a', sa);
    const b = await processor('ingester-b', sb);
    await see(a, '/api/known');
    clock.advance(H + 1);
    await a.persist();
    await b.persist();
    // B learned nothing itself: /api/known came from A's rows.
    await see(b, '/api/known');
    expect(sb.signals).toEqual([]);
    // After learning: A sees a new path and alerts; once B has synced, B does not alert on it again.
    await see(a, '/api/new');
    expect(sa.keys()).toEqual([`first_seen_access|${CART}|orders:8080`]);
    await a.persist();
    await b.persist();
    await see(b, '/api/new');
    expect(sb.signals).toEqual([]);
    // What B has not heard of from A is still new to B.
    await see(b, '/api/other');
    expect(sb.signals).toHaveLength(1);
    await a.shutdown();
    await b.shutdown();

    // A restart reads every row: still past learning, nothing repeated.
    const sc = new RecordingSink();
    const c = await processor('ingester-a', sc);
    expect(c.engine!.learning()).toBe(false);
    for (const p of ['/api/known', '/api/new', '/api/other']) await see(c, p);
    expect(sc.signals).toEqual([]);
    await c.shutdown();

    const reader = openSqlStore(where);
    const rows = await reader.store.query<{ Ingester: string; n: string }>('SELECT Ingester, count() AS n FROM otel.audit_detector_state FINAL GROUP BY Ingester ORDER BY Ingester');
    await reader.release();
    expect(rows.map((r) => r.Ingester)).toEqual(['ingester-a', 'ingester-b']);
  }, 60_000);

  it('an ingester joining later takes the learning start already in the table', async () => {
    const p = await processor('ingester-z', new RecordingSink());
    expect(p.engine!.learning()).toBe(false); // the table already holds a learning start from the test above
    await p.shutdown();
  }, 30_000);
});
