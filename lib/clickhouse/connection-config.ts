/**
 * The keys that say where the store is and who may read it, shared by the
 * `clickhouse_store` extension (the store configured once) and the
 * clickhouse exporter (a Collector config that carries them itself):
 * `endpoint`, `path`, `username`, `password`, `compress`, `connection_params`,
 * and the embedded store's read-only query interface (`query_endpoint`,
 * `query_users`, `query_tls`, `query_insecure`, `query_login_throttle`,
 * `query_log`).
 */
import { s, type ConfigError, type Schema } from '../../core/config/schema.ts';
import { isLoopbackHost } from '../../core/auth-config.ts';
import { scrubText } from '../../core/secrets.ts';
import { tlsServerSchema, validateTlsServer, type TlsServerConfig } from '../../core/tls.ts';
import { loginThrottleDefaults, loginThrottleSchema, type LoginThrottleConfig } from './query/login-throttle.ts';
import { HASH_HOWTO, queryUserSchema, validateQueryUsers, type QueryUserConfig } from './query/query-users.ts';
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
   * Embedded only: the query interface's users, `name: {password_bcrypt_hash
   * | password_sha256_hex, role: reader|auditor}`. Default null: no
   * authentication, which is refused off loopback unless query_insecure.
   */
  query_users: Record<string, QueryUserConfig> | null;
  /** Embedded only: TLS on the query interface (cert_file, key_file, client_ca_file, min_version). Default null (plain HTTP). */
  query_tls: TlsServerConfig | null;
  /** Embedded only: serve without users on a non-loopback query_endpoint. Default false (refused, fail closed). */
  query_insecure: boolean;
  /** Embedded only: failed-login throttling per source address. */
  query_login_throttle: LoginThrottleConfig;
  /** Replaced by query_users: refused with how to write a hash. */
  query_auth: unknown;
  /** Embedded only: one log line per query on the query interface (user, query, rows, time, outcome). Default true. */
  query_log: boolean;
}

export const connectionDefaults = (): ConnectionConfig => ({ endpoint: null, path: './data', username: '', password: '', compress: 'none', connection_params: {} });
export const queryInterfaceDefaults = (): QueryInterfaceConfig => ({
  query_endpoint: '127.0.0.1:8123',
  query_users: null,
  query_tls: null,
  query_insecure: false,
  query_login_throttle: loginThrottleDefaults(),
  query_auth: undefined,
  query_log: true,
});

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
  query_users: s.optional(s.map(queryUserSchema)),
  query_tls: tlsServerSchema,
  query_insecure: s.bool(),
  query_login_throttle: loginThrottleSchema,
  query_auth: s.any(),
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
        message: `${u.protocol}// is ClickHouse's native protocol (port 9000), which trailhouse does not speak: use its HTTP interface, like http://${u.hostname || '127.0.0.1'}:8123, got ${JSON.stringify(scrubText(c.endpoint))}`,
      });
    } else if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) {
      errors.push({ path: 'endpoint', message: `expected an http:// or https:// URL like http://127.0.0.1:8123 (or embedded://DIR), got ${JSON.stringify(scrubText(c.endpoint))}` });
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

/** Whether the query interface's bind host only takes connections from this machine (no host = 127.0.0.1 there). */
function isLoopbackQueryHost(host: string): boolean {
  return host === '' || isLoopbackHost(host);
}

export function validateQueryInterface(c: QueryInterfaceConfig, server: boolean): ConfigError[] {
  const errors: ConfigError[] = [];
  if (c.query_auth !== undefined) {
    // Not mapped onto query_users: that would keep a plain-text password in the config, which is what this replaces.
    errors.push({ path: 'query_auth', message: `replaced by query_users (named users with roles and password hashes): query_users: {<user>: {password_bcrypt_hash: <hash>, role: reader}}; ${HASH_HOWTO}` });
  }
  errors.push(...validateQueryUsers(c.query_users, 'query_users'), ...validateTlsServer(c.query_tls, 'query_tls'));
  if (server) {
    for (const k of ['query_users', 'query_tls'] as const) {
      if (c[k]) errors.push({ path: k, message: 'applies to the embedded store\'s query interface; a ClickHouse server has its own users and TLS' });
    }
  }
  if (c.query_endpoint) {
    const m = HOST_PORT.exec(c.query_endpoint);
    if (!m || Number(m[2]) > 65535) {
      errors.push({ path: 'query_endpoint', message: `expected host:port like 127.0.0.1:8123, got ${JSON.stringify(c.query_endpoint)}` });
    } else if (!server && !isLoopbackQueryHost(m[1]!) && !Object.keys(c.query_users ?? {}).length && !c.query_insecure) {
      errors.push({
        path: 'query_endpoint',
        message: `${c.query_endpoint} is not loopback and no query_users are configured: anyone who reaches it could read every audit event; configure query_users, bind to 127.0.0.1, or set query_insecure: true to accept that`,
      });
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
