import { describe, expect, it } from 'vitest';
import { decode, type ConfigError } from '../../core/config/schema.ts';
import { clickhouseSchema, defaultClickHouseConfig, validateClickHouse, type ClickHouseConfig } from './config.ts';
import { schemaOptions } from './exporter.ts';
import { engineString, logsTableSql, schemaStatements, ttlExpr } from '../../lib/clickhouse/schema.ts';

function load(user: unknown): { cfg: ClickHouseConfig; errors: ConfigError[] } {
  const errors: ConfigError[] = [];
  const cfg = decode(clickhouseSchema, defaultClickHouseConfig(), user, '', errors) as ClickHouseConfig;
  return { cfg, errors: [...errors, ...validateClickHouse(cfg)] };
}

describe('clickhouse config', () => {
  it('defaults to the embedded engine with the Collector table names', () => {
    const { cfg, errors } = load(null);
    expect(errors).toEqual([]);
    expect(cfg).toMatchObject({
      endpoint: null, path: './data', database: 'otel', logs_table_name: 'otel_logs', traces_table_name: 'otel_traces',
      ttl: 0, create_schema: true, cluster_name: null, table_engine: { name: 'MergeTree', params: '' }, async_insert: true,
      query_endpoint: '127.0.0.1:8123', timeout: 5000,
    });
  });

  it('reads a Collector-style server section', () => {
    const { cfg, errors } = load({ endpoint: 'https://ch.example:8443', username: 'u', password: 'p', database: 'logs', ttl: '72h', table_engine: { name: 'ReplacingMergeTree' }, query_endpoint: '', retry_on_failure: { max_elapsed_time: '1m' } });
    expect(errors).toEqual([]);
    expect(cfg).toMatchObject({ endpoint: 'https://ch.example:8443', ttl: 72 * 3_600_000, query_endpoint: '', table_engine: { name: 'ReplacingMergeTree', params: '' } });
    expect(cfg.retry_on_failure.max_elapsed_time).toBe(60_000);
  });

  it('Collector keys it cannot honour are refused with the reason; gzip and connection_params are taken for a server', () => {
    const { cfg, errors } = load({ endpoint: 'http://ch:8123', compress: 'gzip', connection_params: { max_execution_time: '60' } });
    expect(errors).toEqual([]);
    expect(cfg).toMatchObject({ compress: 'gzip', connection_params: { max_execution_time: '60' } });
    const bad = load({ endpoint: 'tcp://ch:9000', compress: 'lz4', metrics_tables: { gauge: { name: 'g' } } }).errors.map((e) => `${e.path}: ${e.message}`);
    expect(bad).toEqual([
      'endpoint: tcp:// is ClickHouse\'s native protocol (port 9000), which trailhouse does not speak: use its HTTP interface, like http://ch:8123, got "tcp://ch:9000"',
      'compress: lz4 compresses ClickHouse\'s native protocol; over HTTP use gzip or none',
      'metrics_tables: metrics are not stored yet (logs and traces only): remove the key and the metrics pipeline',
    ]);
    expect(load({ compress: 'gzip', connection_params: { a: '1' } }).errors.map((e) => e.path)).toEqual(['compress', 'connection_params']);
    // query_auth (one plain-text user) is replaced by query_users: query-users.test.ts.
    expect(load({ query_auth: { username: 'sre', password: 'x' } }).errors.map((e) => e.path)).toEqual(['query_auth']);
  });

  it('accepts embedded://DIR as the embedded engine in DIR', () => {
    expect(load({ endpoint: 'embedded://./data/clickhouse' }).errors).toEqual([]);
    expect(load({ endpoint: 'embedded://' }).errors.map((e) => e.path)).toEqual(['endpoint']);
  });

  it('reports every problem with its path', () => {
    const { errors } = load({ endpoint: 'tcp://x:9000', logs_table_name: 'bad-name', ttl: '3 days', query_endpoint: 'nohost', table_engine: { name: 'Merge Tree' }, bogus: 1 });
    const paths = errors.map((e) => e.path).sort();
    expect(paths).toEqual(['bogus', 'endpoint', 'logs_table_name', 'query_endpoint', 'table_engine.name', 'ttl']);
  });
});

describe('DDL rendering', () => {
  it('renders TTL like the Collector (largest whole unit)', () => {
    expect(ttlExpr(0, 'T')).toBe('');
    expect(ttlExpr(72 * 3_600_000, 'TimestampTime')).toBe('TTL TimestampTime + toIntervalDay(3)');
    expect(ttlExpr(5 * 3_600_000, 'T')).toBe('TTL T + toIntervalHour(5)');
    expect(ttlExpr(90_000, 'T')).toBe('TTL T + toIntervalSecond(90)');
    expect(ttlExpr(120_000, 'T')).toBe('TTL T + toIntervalMinute(2)');
  });

  it('adds ON CLUSTER and a Replicated engine with cluster_name', () => {
    const cfg = { ...defaultClickHouseConfig(), cluster_name: 'prod', ttl: 86_400_000 };
    const o = schemaOptions(cfg, false);
    expect(engineString(o.engine)).toBe('ReplicatedMergeTree()');
    const sql = schemaStatements(o, { logs: true, traces: true });
    expect(sql).toHaveLength(5);
    expect(sql.every((s) => s.includes('ON CLUSTER `prod`'))).toBe(true);
    expect(logsTableSql(o)).toContain('TTL TimestampTime + toIntervalDay(1)');
    expect(logsTableSql(o)).not.toContain('non_replicated_deduplication_window');
  });

  it('keeps a dedup window on embedded MergeTree tables', () => {
    expect(logsTableSql(schemaOptions(defaultClickHouseConfig(), true))).toContain('non_replicated_deduplication_window = 1000, merge_selector_base = 20, min_bytes_for_wide_part = 67108864');
  });

  it('keeps a dedup window on a single server\'s MergeTree tables too, without the embedded merge tuning', () => {
    const sql = logsTableSql(schemaOptions({ ...defaultClickHouseConfig(), endpoint: 'http://ch:8123' }, false));
    expect(sql).toContain('non_replicated_deduplication_window = 1000');
    expect(sql).not.toContain('merge_selector_base');
    expect(sql).not.toContain('min_bytes_for_wide_part');
  });
});
