/**
 * The store-location keys the audit and correlate processors share with the
 * clickhouse exporter (`endpoint`, `path`, `username`, `password`,
 * `database`): the processors write their tables into the exporter's store,
 * so in a pipeline.yaml these keys carry the same values as the exporter's.
 */
import { s, type ConfigError, type Schema } from '../../core/config/schema.ts';

export interface StoreConfig {
  /** `http(s)://host:port` of a ClickHouse server; null (default) = the embedded engine. As the clickhouse exporter's. */
  endpoint: string | null;
  /** Embedded only: the data root, as the clickhouse exporter's `path`. Default ./data. */
  path: string;
  /** Server only. Default ''. */
  username: string;
  /** Server only. Default ''. */
  password: string;
  /** Database of the processor's tables (the exporter's, so joins with otel_logs/otel_traces are local). Default otel. */
  database: string;
}

export const storeConfigDefaults = (): StoreConfig => ({ endpoint: null, path: './data', username: '', password: '', database: 'otel' });

export const storeConfigSchemaFields: Record<keyof StoreConfig, Schema> = {
  endpoint: s.optional(s.string()),
  path: s.string({ nonEmpty: true }),
  username: s.string(),
  password: s.string(),
  database: s.string({ nonEmpty: true }),
};

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks `database` and the named table keys are plain identifiers and `endpoint` is an http(s) URL. */
export function validateStoreConfig(c: StoreConfig & Record<string, unknown>, tableKeys: readonly string[]): ConfigError[] {
  const errors: ConfigError[] = [];
  for (const k of ['database', ...tableKeys]) {
    const v = c[k];
    if (typeof v === 'string' && !IDENT.test(v)) errors.push({ path: k, message: `expected a name (letters, digits, _), got ${JSON.stringify(v)}` });
  }
  if (c.endpoint && !/^https?:\/\//.test(c.endpoint)) {
    errors.push({ path: 'endpoint', message: `expected http(s)://host:port or null (embedded), got ${JSON.stringify(c.endpoint)}` });
  }
  return errors;
}
