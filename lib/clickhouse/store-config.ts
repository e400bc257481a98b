/**
 * The store-location keys of the audit and correlate processors: `store`, the
 * id of the `clickhouse_store` extension they write through (the store
 * configured once), or else the same `endpoint`, `path`, `username`,
 * `password` as the clickhouse exporter's; and `database`.
 */
import type { Host } from '../../core/component.ts';
import { s, type ConfigError, type Schema } from '../../core/config/schema.ts';
import { storeProvider } from './provider.ts';
import type { StoreOptions } from './store.ts';

export interface StoreConfig {
  /** Id of a `clickhouse_store` extension; when set, endpoint/path/username/password stay unset. Default null. */
  store: string | null;
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

export const storeConfigDefaults = (): StoreConfig => ({ store: null, endpoint: null, path: './data', username: '', password: '', database: 'otel' });

export const storeConfigSchemaFields: Record<keyof StoreConfig, Schema> = {
  store: s.optional(s.string({ nonEmpty: true })),
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
  if (c.store) {
    const d = storeConfigDefaults();
    for (const k of ['endpoint', 'path', 'username', 'password'] as const) {
      if (c[k] !== d[k]) errors.push({ path: k, message: `set on the store extension "${c.store}", not here (this processor writes through store: ${c.store})` });
    }
  }
  if (c.endpoint && !/^https?:\/\//.test(c.endpoint)) {
    errors.push({ path: 'endpoint', message: `expected http(s)://host:port or null (embedded), got ${JSON.stringify(c.endpoint)}` });
  }
  return errors;
}

/** Where the processor's store is: the named extension's store, or its own keys (the same options give the same shared store). */
export function resolveStore(c: StoreConfig, host: Host): StoreOptions {
  if (c.store) return storeProvider(host, c.store).storeOptions();
  return { endpoint: c.endpoint || null, path: c.path, username: c.username, password: c.password };
}
