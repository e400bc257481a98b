/**
 * The clickhouse exporter's config, shaped like the Collector's
 * clickhouseexporter (`endpoint`, `username`, `password`, `database`,
 * `logs_table_name`, `traces_table_name`, `ttl`, `create_schema`,
 * `cluster_name`, `table_engine`, `async_insert`, plus the exporter helper's
 * `timeout`, `retry_on_failure`, `sending_queue`), with two additions for the
 * embedded engine: `path` (where chDB keeps its data) and `query_endpoint`
 * (the read-only ClickHouse HTTP interface served over it), and `store`: the
 * id of a `clickhouse_store` extension that holds all of those instead.
 */
import { s, type ConfigError } from '../../core/config/schema.ts';
import { helperDefaults, helperSchemaFields, type ExporterHelperConfig } from '../../core/exporter-helper-config.ts';
import {
  connectionDefaults,
  connectionSchemaFields,
  isServer,
  queryInterfaceDefaults,
  queryInterfaceSchemaFields,
  validateConnection,
  validateQueryInterface,
  type ConnectionConfig,
  type QueryInterfaceConfig,
} from '../../lib/clickhouse/connection-config.ts';
import { defaultLogsIntegrity, logsIntegritySchema, validateLogsIntegrity, type LogsIntegrityConfig } from './integrity.ts';

export interface TableEngineConfig {
  /** Default MergeTree. */
  name: string;
  /** Engine parameters, written inside the parentheses. Default ''. */
  params: string;
}

export interface ClickHouseConfig extends ExporterHelperConfig, ConnectionConfig, QueryInterfaceConfig {
  /**
   * Id of a `clickhouse_store` extension: the store (where it is, its query
   * interface and users) is configured there once, and the connection and
   * query_* keys here stay unset. Default null: this exporter's own keys.
   */
  store: string | null;
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
  /** The Collector's metrics tables: refused with the reason (no metrics pipelines yet). */
  metrics_tables: unknown;
  /** otel_logs rows of chosen services as leaves of a signed Merkle log (integrity.ts). Default off. */
  integrity: LogsIntegrityConfig;
}

export function defaultClickHouseConfig(): ClickHouseConfig {
  return {
    ...helperDefaults(),
    ...connectionDefaults(),
    ...queryInterfaceDefaults(),
    store: null,
    database: 'otel',
    logs_table_name: 'otel_logs',
    traces_table_name: 'otel_traces',
    ttl: 0,
    create_schema: true,
    cluster_name: null,
    table_engine: { name: 'MergeTree', params: '' },
    async_insert: true,
    metrics_tables: undefined,
    integrity: defaultLogsIntegrity(),
  };
}

export const clickhouseSchema = s.object({
  ...helperSchemaFields,
  ...connectionSchemaFields,
  ...queryInterfaceSchemaFields,
  store: s.optional(s.string({ nonEmpty: true })),
  database: s.string({ nonEmpty: true }),
  logs_table_name: s.string({ nonEmpty: true }),
  traces_table_name: s.string({ nonEmpty: true }),
  ttl: s.duration(),
  create_schema: s.bool(),
  cluster_name: s.optional(s.string()),
  table_engine: s.object({ name: s.string({ nonEmpty: true }), params: s.string() }),
  async_insert: s.bool(),
  metrics_tables: s.any(),
  integrity: logsIntegritySchema,
});

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function validateClickHouse(c: ClickHouseConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  if (c.store) errors.push(...keysOwnedByStore(c));
  else errors.push(...validateConnection(c), ...validateQueryInterface(c, isServer(c)));
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
  errors.push(...validateLogsIntegrity(c.integrity, { server: !c.store && isServer(c), cluster: !!c.cluster_name }));
  return errors;
}

/**
 * With `store`, the extension says where the store is and serves its query
 * interface: the same keys here would be a second, silently ignored answer.
 */
function keysOwnedByStore(c: ClickHouseConfig): ConfigError[] {
  const defaults: Record<string, unknown> = { ...connectionDefaults(), ...queryInterfaceDefaults() };
  const errors: ConfigError[] = [];
  for (const [key, value] of Object.entries(defaults)) {
    if (JSON.stringify((c as unknown as Record<string, unknown>)[key]) !== JSON.stringify(value)) {
      errors.push({ path: key, message: `set on the store extension "${c.store}", not here (this exporter writes through store: ${c.store})` });
    }
  }
  return errors;
}
