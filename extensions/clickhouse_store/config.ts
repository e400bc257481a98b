/**
 * The `clickhouse_store` extension's config: where the store is (the
 * clickhouse exporter's connection keys) and the embedded store's read-only
 * query interface. Writers name it by id (`store: clickhouse_store`), so it
 * is written once.
 */
import { s, type ConfigError } from '../../core/config/schema.ts';
import { retentionRules, retentionSchema, type RetentionConfig } from '../../lib/retention/config.ts';
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

export interface ClickHouseStoreConfig extends ConnectionConfig, QueryInterfaceConfig {
  /** The database the query interface uses when a request names none. Default otel. */
  database: string;
  /** Server only: per-request timeout of the client (ms). Default 30s. */
  timeout: number;
  /** The retention policy of the writers' tables (lib/retention); null (default) = each writer's own `ttl`. */
  retention: RetentionConfig | null;
  /** Write the pipeline's own counters per minute to `pipeline_stats` (lib/pipeline-stats). Default true. */
  pipeline_stats: boolean;
  /** How long pipeline_stats rows are kept (0 = no TTL). Default 400d. */
  pipeline_stats_ttl: number;
}

export const defaultClickHouseStoreConfig = (): ClickHouseStoreConfig => ({
  ...connectionDefaults(),
  ...queryInterfaceDefaults(),
  database: 'otel',
  timeout: 30_000,
  retention: null,
  pipeline_stats: true,
  pipeline_stats_ttl: 400 * 86_400_000,
});

export const clickhouseStoreSchema = s.object({
  ...connectionSchemaFields,
  ...queryInterfaceSchemaFields,
  database: s.string({ nonEmpty: true }),
  timeout: s.duration(),
  retention: retentionSchema,
  pipeline_stats: s.bool(),
  pipeline_stats_ttl: s.duration(),
});

export function validateClickHouseStore(c: ClickHouseStoreConfig): ConfigError[] {
  const errors = [...validateConnection(c), ...validateQueryInterface(c, isServer(c))];
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(c.database)) errors.push({ path: 'database', message: `expected a name of letters, digits and _, got ${JSON.stringify(c.database)}` });
  if (c.timeout < 1000) errors.push({ path: 'timeout', message: 'must be at least 1s' });
  if (c.retention) retentionRules(c.retention, errors);
  if (c.pipeline_stats_ttl !== 0 && c.pipeline_stats_ttl < 3_600_000) errors.push({ path: 'pipeline_stats_ttl', message: 'must be 0 (keep) or at least 1h' });
  return errors;
}
