/**
 * The DDL of the Collector's clickhouseexporter (contrib
 * exporter/clickhouseexporter/internal/sqltemplates: logs_table.sql,
 * traces_table.sql, traces_id_ts_lookup_table.sql, traces_id_ts_lookup_mv.sql),
 * with the same column names, types, codecs, indexes, PARTITION BY, ORDER BY
 * and TTL, so Grafana's ClickHouse plugin and existing queries work unchanged.
 * We keep `TimestampTime` in otel_logs (Grafana's default log query uses it).
 *
 * Rendering is pure; `schemaStatements` returns the statements in the order
 * they must run (database, tables, lookup table, then its materialized view).
 */

export interface SchemaOptions {
  database: string;
  logsTable: string;
  tracesTable: string;
  /** Milliseconds; 0 = no TTL. */
  ttlMs: number;
  clusterName: string | null;
  engine: { name: string; params: string };
  /** MergeTree SETTINGS we add (e.g. the embedded engine's dedup window). */
  extraSettings: Record<string, string | number>;
  /**
   * The store's retention policy rendered per table (lib/retention: the TTL
   * without its keyword, '' = none); instead of `ttlMs` for the tables it names.
   */
  retention?: { logs?: string; traces?: string; lookup?: string };
}

/** The TTL clause of a table: the retention policy's when it names the table, else the Collector's from ttlMs. */
function ttlOf(o: SchemaOptions, table: 'logs' | 'traces' | 'lookup', timeField: string): string {
  const r = o.retention?.[table];
  if (r !== undefined) return r ? `TTL ${r}` : '';
  return ttlExpr(o.ttlMs, timeField);
}

/** `name` quoted as a ClickHouse identifier. */
export function ident(name: string): string {
  return '`' + name.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';
}

/** The Collector's GenerateTTLExpr: the largest whole unit of the duration. */
export function ttlExpr(ttlMs: number, timeField: string): string {
  if (ttlMs <= 0) return '';
  const s = Math.floor(ttlMs / 1000);
  if (s % 86_400 === 0) return `TTL ${timeField} + toIntervalDay(${s / 86_400})`;
  if (s % 3_600 === 0) return `TTL ${timeField} + toIntervalHour(${s / 3_600})`;
  if (s % 60 === 0) return `TTL ${timeField} + toIntervalMinute(${s / 60})`;
  return `TTL ${timeField} + toIntervalSecond(${s})`;
}

/** ENGINE clause: `MergeTree()` by default, `Name(params)` as configured. */
export function engineString(engine: { name: string; params: string }): string {
  return `${engine.name || 'MergeTree'}(${engine.name ? engine.params : ''})`;
}

function onCluster(o: SchemaOptions): string {
  return o.clusterName ? ` ON CLUSTER ${ident(o.clusterName)}` : '';
}

function settings(o: SchemaOptions, base: string): string {
  const extra = Object.entries(o.extraSettings).map(([k, v]) => `${k} = ${typeof v === 'number' ? v : `'${v}'`}`);
  return `SETTINGS ${[base, ...extra].join(', ')}`;
}

export function logsTableSql(o: SchemaOptions): string {
  return `CREATE TABLE IF NOT EXISTS ${ident(o.database)}.${ident(o.logsTable)}${onCluster(o)} (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TimestampTime DateTime DEFAULT toDateTime(Timestamp),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    TraceFlags UInt8,
    SeverityText LowCardinality(String) CODEC(ZSTD(1)),
    SeverityNumber UInt8,
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    Body String CODEC(ZSTD(1)),
    ResourceSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeSchemaUrl LowCardinality(String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion LowCardinality(String) CODEC(ZSTD(1)),
    ScopeAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    LogAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    EventName String CODEC(ZSTD(1)),

    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_key mapKeys(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_scope_attr_value mapValues(ScopeAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_log_attr_key mapKeys(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_log_attr_value mapValues(LogAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_body Body TYPE tokenbf_v1(32768, 3, 0) GRANULARITY 8
) ENGINE = ${engineString(o.engine)}
PARTITION BY toDate(TimestampTime)
PRIMARY KEY (ServiceName, TimestampTime)
ORDER BY (ServiceName, TimestampTime, Timestamp)
${ttlOf(o, 'logs', 'TimestampTime')}
${settings(o, 'index_granularity = 8192, ttl_only_drop_parts = 1')}`;
}

export function tracesTableSql(o: SchemaOptions): string {
  return `CREATE TABLE IF NOT EXISTS ${ident(o.database)}.${ident(o.tracesTable)}${onCluster(o)} (
    Timestamp DateTime64(9) CODEC(Delta(8), ZSTD(1)),
    TraceId String CODEC(ZSTD(1)),
    SpanId String CODEC(ZSTD(1)),
    ParentSpanId String CODEC(ZSTD(1)),
    TraceState String CODEC(ZSTD(1)),
    SpanName LowCardinality(String) CODEC(ZSTD(1)),
    SpanKind LowCardinality(String) CODEC(ZSTD(1)),
    ServiceName LowCardinality(String) CODEC(ZSTD(1)),
    ResourceAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    ScopeName String CODEC(ZSTD(1)),
    ScopeVersion String CODEC(ZSTD(1)),
    SpanAttributes Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    Duration UInt64 CODEC(T64, ZSTD(1)),
    StatusCode LowCardinality(String) CODEC(ZSTD(1)),
    StatusMessage String CODEC(ZSTD(1)),
    Events Nested (
        Timestamp DateTime64(9),
        Name LowCardinality(String),
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),
    Links Nested (
        TraceId String,
        SpanId String,
        TraceState String,
        Attributes Map(LowCardinality(String), String)
    ) CODEC(ZSTD(1)),

    INDEX idx_trace_id TraceId TYPE bloom_filter(0.001) GRANULARITY 1,
    INDEX idx_res_attr_key mapKeys(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_res_attr_value mapValues(ResourceAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_key mapKeys(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_span_attr_value mapValues(SpanAttributes) TYPE bloom_filter(0.01) GRANULARITY 1,
    INDEX idx_duration Duration TYPE minmax GRANULARITY 1
) ENGINE = ${engineString(o.engine)}
PARTITION BY toDate(Timestamp)
ORDER BY (ServiceName, SpanName, toDateTime(Timestamp))
${ttlOf(o, 'traces', 'toDateTime(Timestamp)')}
${settings(o, 'index_granularity = 8192, ttl_only_drop_parts = 1')}`;
}

export function traceIdTsTableSql(o: SchemaOptions): string {
  return `CREATE TABLE IF NOT EXISTS ${ident(o.database)}.${ident(o.tracesTable + '_trace_id_ts')}${onCluster(o)} (
    TraceId String CODEC(ZSTD(1)),
    Start DateTime CODEC(Delta, ZSTD(1)),
    End DateTime CODEC(Delta, ZSTD(1)),
    INDEX idx_trace_id TraceId TYPE bloom_filter(0.01) GRANULARITY 1
) ENGINE = ${engineString(o.engine)}
PARTITION BY toDate(Start)
ORDER BY (TraceId, Start)
${ttlOf(o, 'lookup', 'Start')}
${settings(o, 'index_granularity = 8192, ttl_only_drop_parts = 1')}`;
}

export function traceIdTsMvSql(o: SchemaOptions): string {
  const db = ident(o.database);
  return `CREATE MATERIALIZED VIEW IF NOT EXISTS ${db}.${ident(o.tracesTable + '_trace_id_ts_mv')}${onCluster(o)}
TO ${db}.${ident(o.tracesTable + '_trace_id_ts')}
AS SELECT
    TraceId,
    min(Timestamp) as Start,
    max(Timestamp) as End
FROM ${db}.${ident(o.tracesTable)}
WHERE TraceId != ''
GROUP BY TraceId`;
}

export function databaseSql(o: SchemaOptions): string {
  return `CREATE DATABASE IF NOT EXISTS ${ident(o.database)}${onCluster(o)}`;
}

export function schemaStatements(o: SchemaOptions, signals: { logs: boolean; traces: boolean }): string[] {
  const out = [databaseSql(o)];
  if (signals.logs) out.push(logsTableSql(o));
  if (signals.traces) out.push(tracesTableSql(o), traceIdTsTableSql(o), traceIdTsMvSql(o));
  return out;
}
