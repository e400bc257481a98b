/**
 * The keys that say where the store is and who may read it, shared by the
 * `clickhouse_store` extension (the store configured once) and the
 * clickhouse exporter (a Collector config that carries them itself):
 * `endpoint`, `path`, `username`, `password`, `compress`, `connection_params`,
 * and the embedded store's read-only query interface (`query_endpoint`,
 * `query_auth`, `query_log`).
 */
import { s, type ConfigError, type Schema } from '../../core/config/schema.ts';
import type { StoreOptions } from './store.ts';

export interface ConnectionConfig {
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
  /** Server only: `gzip` compresses insert bodies over HTTP; `none` (default) does not. */
  compress: 'none' | 'gzip' | 'lz4' | 'zstd';
  /** Server only: ClickHouse settings sent with every query (the Collector's connection_params). */
  connection_params: Record<string, string>;
}

export interface QueryInterfaceConfig {
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
}

export const connectionDefaults = (): ConnectionConfig => ({ endpoint: null, path: './data', username: '', password: '', compress: 'none', connection_params: {} });
export const queryInterfaceDefaults = (): QueryInterfaceConfig => ({ query_endpoint: '127.0.0.1:8123', query_auth: null, query_log: true });

export const connectionSchemaFields: Record<keyof ConnectionConfig, Schema> = {
  endpoint: s.optional(s.string()),
  path: s.string({ nonEmpty: true }),
  username: s.string(),
  password: s.string(),
  compress: s.string({ enum: ['none', 'gzip', 'lz4', 'zstd'] }),
  connection_params: s.map(s.string()),
};

export const queryInterfaceSchemaFields: Record<keyof QueryInterfaceConfig, Schema> = {
  query_endpoint: s.optional(s.string()),
  query_log: s.bool(),
  query_auth: s.section(s.object({ username: s.string({ nonEmpty: true }), password: s.string() }), () => ({ username: 'default', password: '' })),
};

const HOST_PORT = /^(\[[^\]]+\]|[^:\s/]*):(\d{1,5})$/;

/** A ClickHouse server (not the embedded engine) is configured. */
export function isServer(c: Pick<ConnectionConfig, 'endpoint'>): boolean {
  return !!c.endpoint && !c.endpoint.startsWith('embedded://');
}

export function validateConnection(c: ConnectionConfig): ConfigError[] {
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
        message: `${u.protocol}// is ClickHouse's native protocol (port 9000), which trailhouse does not speak: use its HTTP interface, like http://${u.hostname || '127.0.0.1'}:8123, got ${JSON.stringify(c.endpoint)}`,
      });
    } else if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
      errors.push({ path: 'endpoint', message: `expected an http:// or https:// URL like http://127.0.0.1:8123 (or embedded://DIR), got ${JSON.stringify(c.endpoint)}` });
    }
  }
  const server = isServer(c);
  if (c.compress === 'lz4' || c.compress === 'zstd') {
    errors.push({ path: 'compress', message: `${c.compress} compresses ClickHouse's native protocol; over HTTP use gzip or none` });
  } else if (c.compress !== 'none' && !server) {
    errors.push({ path: 'compress', message: 'applies to a ClickHouse server (endpoint); the embedded engine has no wire to compress' });
  }
  if (Object.keys(c.connection_params).length > 0 && !server) {
    errors.push({ path: 'connection_params', message: 'applies to a ClickHouse server (endpoint); set engine settings of the embedded store in its queries' });
  }
  return errors;
}

export function validateQueryInterface(c: QueryInterfaceConfig, server: boolean): ConfigError[] {
  const errors: ConfigError[] = [];
  if (c.query_auth && c.query_auth.password === '') {
    errors.push({ path: 'query_auth.password', message: 'must not be empty (use ${env:NAME} to keep it out of the file)' });
  }
  if (c.query_auth && server) errors.push({ path: 'query_auth', message: 'applies to the embedded store\'s query interface; a ClickHouse server has its own users' });
  if (c.query_endpoint) {
    const m = HOST_PORT.exec(c.query_endpoint);
    if (!m || Number(m[2]) > 65535) {
      errors.push({ path: 'query_endpoint', message: `expected host:port like 127.0.0.1:8123, got ${JSON.stringify(c.query_endpoint)}` });
    }
  }
  return errors;
}

/** The registry options (store.ts) for a connection config: the same config gives the same shared store. */
export function storeOptionsOf(c: ConnectionConfig, requestTimeoutMs: number): StoreOptions {
  const embeddedDir = c.endpoint?.startsWith('embedded://') ? c.endpoint.slice('embedded://'.length) : undefined;
  return {
    endpoint: embeddedDir !== undefined ? null : c.endpoint || null,
    path: c.path,
    dataDir: embeddedDir,
    username: c.username,
    password: c.password,
    requestTimeoutMs,
    compressRequests: c.compress === 'gzip',
    settings: c.connection_params,
  };
}
