import { describe, expect, it } from 'vitest';
import { exporterMetrics, MetricsRegistry, processorMetrics, receiverMetrics } from '../../core/telemetry/metrics.ts';
import { StatsSampler, statsInsertSql } from './stats.ts';

describe('pipeline_stats sampler', () => {
  it('gives per-minute deltas per component and signal, summing a receiver\'s transports, and no row for what did not change', () => {
    const reg = new MetricsRegistry();
    const grpc = receiverMetrics(reg, 'otlp', 'grpc');
    const http = receiverMetrics(reg, 'otlp', 'http');
    const exp = exporterMetrics(reg, 'clickhouse');
    const proc = processorMetrics(reg, 'memory_limiter');
    grpc.logs.accepted.add(5); // before the sampler: not counted
    const s = new StatsSampler(reg);
    grpc.logs.accepted.add(10);
    http.logs.accepted.add(3);
    http.logs.refused.add(2);
    grpc.traces.accepted.add(7);
    proc.logs.refused.add(4);
    exp.logs.sent.add(11);
    exp.logs.sendFailed.add(1);
    exp.logs.enqueueFailed.add(6);
    reg.counter('trailhouse_security_events_dropped', 'x').add(9);
    const rows = s.sample(Date.UTC(2024, 4, 14, 9, 12, 30));
    const by = Object.fromEntries(rows.map((r) => [`${r.component} ${r.signal}`, [r.accepted, r.refused, r.dropped]]));
    expect(by).toEqual({
      'receiver/otlp logs': [13, 2, 0],
      'receiver/otlp traces': [7, 0, 0],
      'processor/memory_limiter logs': [0, 4, 0],
      'exporter/clickhouse logs': [11, 6, 1],
      'security_events logs': [0, 0, 9],
    });
    expect(new Set(rows.map((r) => r.minute))).toEqual(new Set([Date.UTC(2024, 4, 14, 9, 12) / 1000]));
    expect(s.sample(Date.now())).toEqual([]);
    grpc.logs.accepted.add(1);
    expect(s.sample(Date.now()).map((r) => [r.component, r.accepted])).toEqual([['receiver/otlp', 1]]);
  });

  it('quotes component ids in the INSERT', () => {
    const sql = statsInsertSql('otel', [{ minute: 60, component: "receiver/x'); DROP TABLE t; --", signal: 'logs', accepted: 1, refused: 0, dropped: 0 }]);
    expect(sql).toContain("'receiver/x\\'); DROP TABLE t; --'");
  });
});

describe('pipeline_stats writer', () => {
  it('creates the table with its TTL, and writes the partial minute at close', async () => {
    const { StatsWriter } = await import('./writer.ts');
    const { testLogger } = await import('../../test/helpers.ts');
    const reg = new MetricsRegistry();
    const rx = receiverMetrics(reg, 'zipkin', 'http');
    const sql: string[] = [];
    const w = new StatsWriter({ database: 'otel', ttlMs: 2 * 86_400_000, exec: async (s) => void sql.push(s), metrics: reg, logger: testLogger(), now: () => Date.UTC(2024, 4, 14, 9, 12, 30) });
    await w.start();
    expect(sql[1]).toMatch(/CREATE TABLE IF NOT EXISTS `?otel`?\.`?pipeline_stats`?[\s\S]*TTL Minute \+ toIntervalSecond\(172800\)/);
    rx.traces.accepted.add(8);
    rx.traces.refused.add(1);
    await w.close();
    expect(sql[2]).toBe(`INSERT INTO ${sql[2]!.slice(12, sql[2]!.indexOf(' (Minute'))} (Minute, Component, Signal, Accepted, Refused, Dropped) VALUES (${Date.UTC(2024, 4, 14, 9, 12) / 1000}, 'receiver/zipkin', 'traces', 8, 1, 0)`);
    expect(sql).toHaveLength(3);
  });
});
