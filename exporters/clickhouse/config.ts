/**
 * The clickhouse exporter's config, shaped like the Collector's
 * clickhouseexporter (`endpoint`, `username`, `password`, `database`,
 * `logs_table_name`, `traces_table_name`, `ttl`, `create_schema`,
 * `cluster_name`, `table_engine`, `async_insert`, plus the exporter helper's
 * `timeout`, `retry_on_failure`, `sending_queue`), with two additions for the
 * embedded engine: `path` (where chDB keeps its data) and `query_endpoint`
 * (the read-only ClickHouse HTTP interface served over it).
 */
import { scrubText } from '../../core/secrets.ts';
import { s, type ConfigError } from '../../core/config/schema.ts';
import { helperDefaults, helperSchemaFields, type ExporterHelperConfig } from '../../core/exporter-helper.ts';

export interface TableEngineConfig {
  /** Default MergeTree. */
  name: string;
  /** Engine parameters, written inside the parentheses. Default ''. */
  params: string;
}

export interface ClickHouseConfig extends ExporterHelperConfig {
  /**
   * `http://host:8123` or `https://host:8443` of a ClickHouse server; null (default) = embedded
   * chDB under `path`; `embedded://DIR` = embedded chDB with its files in DIR.
   */
  endpoint: string | null;
  /** Embedded only: the data root; the engine's files go in `<path>/clickhouse`. Default ./data. */
  path: string;
  /** Server only. Default '' (ClickHouse's `default` user). */
  username: string;
  /** Server only. Default ''. */
  password: string;
  /** Default otel. */
  database: string;
  /** Default otel_logs. */
  logs_table_name: string;
  /** Default otel_traces (plus `<name>_trace_id_ts` and its `_mv`). */
  traces_table_name: string;
  /** Data time-to-live (ms); 0 (default) = keep forever. */
  ttl: number;
  /** Run the DDL for the database and tables on start. Default true. */
  create_schema: boolean;
  /** Adds ON CLUSTER to the DDL and uses ReplicatedMergeTree unless table_engine says otherwise. Default null. */
  cluster_name: string | null;
  table_engine: TableEngineConfig;
  /** Server only: insert with async_insert=1 (wait_for_async_insert=1, deduplicated). Default true. */
  async_insert: boolean;
  /**
   * Embedded only: host:port of the read-only ClickHouse HTTP interface over
   * the embedded engine. Default 127.0.0.1:8123; null or '' disables it.
   */
  query_endpoint: string | null;
  /**
   * Embedded only: the one user the query interface accepts (Basic auth,
   * X-ClickHouse-User/-Key headers, or user/password URL parameters, as
   * ClickHouse takes them). Default null: no authentication (loopback only!).
   */
  query_auth: { username: string; password: string } | null;
  /** Embedded only: one log line per query on the query interface (user, query, rows, time, outcome). Default true. */
  query_log: boolean;
  /** Server only: `gzip` compresses insert bodies over HTTP; `none` (default) does not. */
  compress: 'none' | 'gzip' | 'lz4' | 'zstd';
  /** Server only: ClickHouse settings sent with every query (the Collector's connection_params). */
  connection_params: Record<string, string>;
  /** The Collector's metrics tables: refused with the reason (no metrics pipelines yet). */
  metrics_tables: unknown;
}

export function defaultClickHouseConfig(): ClickHouseConfig {
  return {
    ...helperDefaults(),
    endpoint: null,
    path: './data',
    username: '',
    password: '',
    database: 'otel',
    logs_table_name: 'otel_logs',
    traces_table_name: 'otel_traces',
    ttl: 0,
    create_schema: true,
    cluster_name: null,
    table_engine: { name: 'MergeTree', params: '' },
    async_insert: true,
    query_endpoint: '127.0.0.1:8123',
    query_auth: null,
    query_log: true,
    compress: 'none',
    connection_params: {},
    metrics_tables: undefined,
  };
}

export const clickhouseSchema = s.object({
  ...helperSchemaFields,
  endpoint: s.optional(s.string()),
  path: s.string({ nonEmpty: true }),
  username: s.string(),
  password: s.string(),
  database: s.string({ nonEmpty: true }),
  logs_table_name: s.string({ nonEmpty: true }),
  traces_table_name: s.string({ nonEmpty: true }),
  ttl: s.duration(),
  create_schema: s.bool(),
  cluster_name: s.optional(s.string()),
  table_engine: s.object({ name: s.string({ nonEmpty: true }), params: s.string() }),
  async_insert: s.bool(),
  query_endpoint: s.optional(s.string()),
  query_log: s.bool(),
  query_auth: s.section(s.object({ username: s.string({ nonEmpty: true }), password: s.string() }), () => ({ username: 'default', password: '' })),
  compress: s.string({ enum: ['none', 'gzip', 'lz4', 'zstd'] }),
  connection_params: s.map(s.string()),
  metrics_tables: s.any(),
});

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HOST_PORT = /^(\[[^\]]+\]|[^:\s/]*):(\d{1,5})$/;

export function validateClickHouse(c: ClickHouseConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  if (c.endpoint?.startsWith('embedded://')) {
    if (c.endpoint.length === 'embedded://'.length) errors.push({ path: 'endpoint', message: 'embedded:// needs a directory, like embedded://./data/clickhouse' });
  } else if (c.endpoint) {
    let u: URL | undefined;
    try {
      u = new URL(c.endpoint);
    } catch {
      /* reported below */
    }
    if (u && (u.protocol === 'tcp:' || u.protocol === 'clickhouse:')) {
      errors.push({
        path: 'endpoint',
        message: `${u.protocol}// is ClickHouse's native protocol (port 9000), which trailhouse does not speak: use its HTTP interface, like http://${u.hostname || '127.0.0.1'}:8123, got ${JSON.stringify(scrubText(c.endpoint))}`,
      });
    } else if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
      errors.push({ path: 'endpoint', message: `expected an http:// or https:// URL like http://127.0.0.1:8123 (or embedded://DIR), got ${JSON.stringify(scrubText(c.endpoint))}` });
    }
  }
  const server = !!c.endpoint && !c.endpoint.startsWith('embedded://');
  if (c.compress === 'lz4' || c.compress === 'zstd') {
    errors.push({ path: 'compress', message: `${c.compress} compresses ClickHouse's native protocol; over HTTP use gzip or none` });
  } else if (c.compress !== 'none' && !server) {
    errors.push({ path: 'compress', message: 'applies to a ClickHouse server (endpoint); the embedded engine has no wire to compress' });
  }
  if (Object.keys(c.connection_params).length > 0 && !server) {
    errors.push({ path: 'connection_params', message: 'applies to a ClickHouse server (endpoint); set engine settings of the embedded store in its queries' });
  }
  if (c.query_auth && c.query_auth.password === '') {
    errors.push({ path: 'query_auth.password', message: 'must not be empty (use ${env:NAME} to keep it out of the file)' });
  }
  if (c.query_auth && server) errors.push({ path: 'query_auth', message: 'applies to the embedded store\'s query interface; a ClickHouse server has its own users' });
  if (c.metrics_tables !== undefined) {
    errors.push({ path: 'metrics_tables', message: 'metrics are not stored yet (logs and traces only): remove the key and the metrics pipeline' });
  }
  for (const key of ['database', 'logs_table_name', 'traces_table_name'] as const) {
    if (!IDENT.test(c[key])) errors.push({ path: key, message: `expected a name of letters, digits and _, got ${JSON.stringify(c[key])}` });
  }
  if (!IDENT.test(c.table_engine.name)) {
    errors.push({ path: 'table_engine.name', message: `expected an engine name like MergeTree, got ${JSON.stringify(c.table_engine.name)}` });
  }
  if (c.cluster_name !== null && c.cluster_name !== '' && !/^[A-Za-z0-9_.-]+$/.test(c.cluster_name)) {
    errors.push({ path: 'cluster_name', message: `expected a cluster name, got ${JSON.stringify(c.cluster_name)}` });
  }
  if (c.ttl > 0 && c.ttl < 1000) errors.push({ path: 'ttl', message: 'must be 0 (no TTL) or at least 1s' });
  if (c.query_endpoint) {
    const m = HOST_PORT.exec(c.query_endpoint);
    if (!m || Number(m[2]) > 65535) {
      errors.push({ path: 'query_endpoint', message: `expected host:port like 127.0.0.1:8123, got ${JSON.stringify(c.query_endpoint)}` });
    }
  }
  return errors;
}
