/**
 * The SecurityEvent writer's delivery: retried under the same dedup token,
 * given up on a permanent error, bounded, and never storing a detail that
 * looks like a credential. (Stored for real in audit_events and read back
 * with `trailhouse audit`: exporters/clickhouse/query-auth.test.ts (lib/clickhouse/query/ holds the interface).)
 */
import { afterEach, describe, expect, it } from 'vitest';
import { PermanentError } from '../../core/errors.ts';
import { emitSecurityEvent, type SecurityEvent } from '../../core/security-events.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { securityEventRow, SecurityEventWriter } from './security-writer.ts';
import type { Rows, SqlStore } from '../../lib/clickhouse/sql-store.ts';

const event = (over: Partial<SecurityEvent> = {}): SecurityEvent => ({
  time: 1_700_000_000_000_000_000n,
  category: 'authentication',
  action: 'otlp/http export',
  outcome: 'failure',
  subject: 'gateway-1',
  source: '10.0.0.7:41234',
  surface: 'receiver/otlp',
  reason: 'bad token',
  details: { status: '401' },
  ...over,
});

class FakeStore implements SqlStore {
  inserts: Array<{ table: string; rows: string; token?: string }> = [];
  failures: Error[] = [];
  async exec(): Promise<void> {}
  async query<T>(): Promise<T[]> {
    return [];
  }
  async insert(table: string, _columns: readonly string[], rows: Rows, opts: { dedupToken?: string }): Promise<void> {
    const f = this.failures.shift();
    this.inserts.push({ table, rows: rows.json(), token: opts.dedupToken });
    if (f) throw f;
  }
}

let writer: SecurityEventWriter | undefined;
afterEach(async () => {
  await writer?.close();
  writer = undefined;
});

describe('SecurityEventWriter', () => {
  it('maps an event to an audit_events row; details that look like credentials are dropped', () => {
    const row = securityEventRow(event({ category: 'data_access', action: 'query', outcome: 'allowed', details: { sql: 'SELECT 1', role: 'auditor', database: 'otel', password: 'x', Authorization: 'Basic eA==', api_key: 'k', token: 't' } }));
    expect(row.service).toBe('trailhouse');
    expect(row.event).toMatchObject({ category: 'data_access', principal: 'gateway-1', source: '10.0.0.7:41234', destination: 'receiver/otlp', resource: 'otel', policy: 'role:auditor' });
    expect(row.event.details).toEqual({ sql: 'SELECT 1', role: 'auditor', database: 'otel', reason: 'bad token' });
  });

  it('is one per process, gets the events raised before it, and retries a failed insert under the same dedup token', async () => {
    emitSecurityEvent(event({ subject: 'early' }));
    const store = new FakeStore();
    store.failures.push(new Error('connection refused'), new Error('timeout'));
    const metrics = new MetricsRegistry();
    writer = SecurityEventWriter.claim(store, 'otel.audit_events', silentLogger, metrics, { flushMs: 60_000, retryInitialMs: 5, retryMaxMs: 10 });
    expect(writer).toBeDefined();
    expect(SecurityEventWriter.claim(store, 'otel.audit_events', silentLogger)).toBeUndefined();
    emitSecurityEvent(event({ subject: 'later' }));
    await writer!.flush();
    expect(store.inserts).toHaveLength(3);
    expect(new Set(store.inserts.map((i) => i.token)).size).toBe(1);
    expect(store.inserts[2]!.rows.split('\n').map((l) => (JSON.parse(l) as { Principal: string }).Principal)).toEqual(['early', 'later']);
    expect(metrics.exposition()).toMatch(/trailhouse_security_events_written 2/);
  });

  it('drops a batch the store refuses as malformed, and events past the buffer, counting them', async () => {
    const store = new FakeStore();
    store.failures.push(new PermanentError('bad row'));
    const metrics = new MetricsRegistry();
    writer = SecurityEventWriter.claim(store, 't', silentLogger, metrics, { flushMs: 60_000, maxBuffered: 3, maxBatch: 100 });
    for (let i = 0; i < 5; i++) emitSecurityEvent(event());
    await writer!.flush();
    expect(store.inserts).toHaveLength(1);
    expect(store.inserts[0]!.rows.split('\n')).toHaveLength(3);
    expect(metrics.exposition()).toMatch(/trailhouse_security_events_dropped 5/);
  });

  it('bounds the buffer by size too: a flood of huge queries cannot hold the memory', async () => {
    const store = new FakeStore();
    const metrics = new MetricsRegistry();
    writer = SecurityEventWriter.claim(store, 't', silentLogger, metrics, { flushMs: 60_000, maxBatch: 1000, maxBufferedBytes: 100_000 });
    for (let i = 0; i < 10; i++) emitSecurityEvent(event({ category: 'data_access', details: { sql: 'x'.repeat(30_000) } }));
    await writer!.flush();
    expect(store.inserts[0]!.rows.split('\n')).toHaveLength(3);
    expect(metrics.exposition()).toMatch(/trailhouse_security_events_dropped 7/);
  });
});
