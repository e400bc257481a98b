/**
 * ClickHouse's HTTP interface, read-only, over the embedded engine, so an SRE
 * (curl, clickhouse-client's HTTP mode, `trailhouse query`) and Grafana's
 * ClickHouse plugin can query the store the way they query a server:
 *
 * - `GET /?query=…`, `POST /` with the query as the body, or `?query=` as its
 *   beginning and the body appended (after a newline), as ClickHouse does;
 * - `database` (default: the exporter's database), `default_format` (default
 *   TabSeparated), or their headers X-ClickHouse-Database / X-ClickHouse-Format, a FORMAT clause in the SQL, `param_<name>` query
 *   parameters, `query_id`; `GET /ping` and `GET /` answer `Ok.\n`;
 * - response headers X-ClickHouse-Format, -Query-Id, -Timezone, -Summary,
 *   -Server-Display-Name; errors as ClickHouse writes them
 *   (`Code: 62. DB::Exception: … (SYNTAX_ERROR) (version …)`) with
 *   X-ClickHouse-Exception-Code and ClickHouse's status for the code;
 * - gzip/deflate request bodies; gzip/deflate responses with
 *   enable_http_compression=1.
 *
 * Isolation by construction (sql-admission.ts): a query runs only if the
 * engine's own parser reads it as one SELECT over the store's tables, and it
 * runs on a fresh read-only session with fixed limits (readonly-pool.ts);
 * results stream, a client that goes away cancels its query, and beyond the
 * concurrency bound the answer is 503 with Retry-After. Refusals are 403 with
 * code 164 (READONLY) or 497 (ACCESS_DENIED). Other URL settings are
 * accepted and ignored.
 *
 * Authentication (query-auth.ts): with `users`, every request but /ping must
 * carry one user's password, the ways ClickHouse takes them (Basic auth, or
 * X-ClickHouse-User and X-ClickHouse-Key); `handle` knows `{ user, role }`
 * before the query path. Without users the interface is open, and it refuses
 * to start off loopback unless `insecure` says so. TLS (with optional client
 * certificates) with `tls`. Every query is logged and raised as a
 * `data_access` SecurityEvent (who, from where, what, how it ended, how much
 * it read), which the audit processor stores in audit_events.
 */
import type http from 'node:http';
import type tls from 'node:tls';
import zlib from 'node:zlib';
import { randomUUID } from 'node:crypto';
import type { TlsServerConfig } from '../../../core/tls.ts';
import type { Logger } from '../../../core/telemetry/logger.ts';
import type { MetricsRegistry } from '../../../core/telemetry/metrics.ts';
import { isLoopbackHost } from '../../../core/auth-config.ts';
import type { QueryInterfaceConfig } from '../connection-config.ts';
import { loginThrottleDefaults, type LoginThrottleConfig } from './login-throttle.ts';
import { recordAccess, sendRefusal, type Access } from './query-access.ts';
import { QueryAuthenticator } from './query-auth.ts';
import { createListener } from './query-listener.ts';
import { admissionRole, type QueryUserConfig } from './query-users.ts';
import { QueryRoutes } from './query-routes.ts';
import type { ReadonlyPool } from './readonly-pool.ts';
import { clickhouseCode } from '../errors.ts';
import { admitQuery } from './sql-admission.ts';
import { checkFormat } from './sql-rules.ts';
import { formatException, HttpError, statusFor, streamResult, VERSION_OF } from './query-response.ts';

export interface QueryServerOptions {
  /** host:port; port 0 picks a free one. */
  endpoint: string;
  pool: ReadonlyPool;
  defaultDatabase: string;
  logger: Logger;
  /** Largest accepted query text, bytes. Default 16 MiB. */
  maxQueryBytes?: number;
  /** Named users with roles (password hashes); null/undefined/empty = no authentication. */
  users?: Record<string, QueryUserConfig> | null;
  /** TLS, as the receivers' `tls` (client_ca_file = client certificates required). */
  tls?: TlsServerConfig | null;
  /** Serve without users on a non-loopback address (refused otherwise). Default false. */
  insecure?: boolean;
  /** Failed-login throttling per source. */
  throttle?: LoginThrottleConfig;
  /** One log line per query (who, what, how much, how it ended). Default true. */
  queryLog?: boolean;
  metrics?: MetricsRegistry;
  /** Table names the auditor role may read (in any store database). Default: audit_events and its log's tables (leaves, checkpoints), the retention ledger and policy, and audit_alerts. */
  auditTables?: readonly string[];
}


/** The server options a query-interface config gives (the clickhouse_store extension's, or an exporter's own). */
export function queryServerOptions(c: QueryInterfaceConfig, endpoint: string, pool: ReadonlyPool, defaultDatabase: string, logger: Logger, metrics?: MetricsRegistry): QueryServerOptions {
  return {
    endpoint,
    pool,
    defaultDatabase,
    logger,
    users: c.query_users,
    tls: c.query_tls,
    insecure: c.query_insecure,
    throttle: c.query_login_throttle,
    queryLog: c.query_log,
    metrics,
  };
}

async function readBody(req: http.IncomingMessage, limit: number): Promise<string> {
  const enc = (req.headers['content-encoding'] ?? '').toLowerCase();
  let stream: NodeJS.ReadableStream = req;
  if (enc === 'gzip') stream = req.pipe(zlib.createGunzip());
  else if (enc === 'deflate') stream = req.pipe(zlib.createInflate());
  else if (enc === 'br') stream = req.pipe(zlib.createBrotliDecompress());
  else if (enc && enc !== 'identity') throw new HttpError(779, 'UNSUPPORTED_MEDIA_TYPE', `Unsupported Content-Encoding: ${enc}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > limit) throw new HttpError(229, 'QUERY_IS_TOO_LARGE', `Query is too large (more than ${limit} bytes)`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export class QueryServer {
  private server: http.Server | undefined;
  private readonly auth: QueryAuthenticator;
  private scheme = 'http';
  /** Client certificates are required (query_tls.client_ca_file). */
  private clientCerts = false;
  /** Actions served beside queries (query-routes.ts), authenticated as queries are. */
  readonly routes = new QueryRoutes();

  constructor(private readonly o: QueryServerOptions) {
    this.auth = new QueryAuthenticator(o.users, o.throttle ?? loginThrottleDefaults(), o.logger, o.metrics);
  }

  async start(): Promise<void> {
    const i = this.o.endpoint.lastIndexOf(':');
    const host = this.o.endpoint.slice(0, i).replace(/^\[|\]$/g, '') || '127.0.0.1';
    const port = Number(this.o.endpoint.slice(i + 1));
    const { server, clientCerts } = await createListener({ ...this.o, host }, this.auth, (req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        // Only reachable if writing the response itself failed.
        this.o.logger.warn('query interface request failed', { error: err });
        res.destroy();
      });
    });
    this.scheme = clientCerts === null ? 'http' : 'https';
    this.clientCerts = clientCerts === true;
    await new Promise<void>((resolve, reject) => {
      const fail = (err: NodeJS.ErrnoException) =>
        reject(
          new Error(
            `query_endpoint ${this.o.endpoint}: ${err.code === 'EADDRINUSE' ? 'address already in use' : err.message} ` +
              '(set query_endpoint to another host:port, or to null to turn the query interface off)',
            { cause: err },
          ),
        );
      server.once('error', fail);
      server.listen(port, host, () => {
        server.off('error', fail);
        resolve();
      });
    });
    this.server = server;
    this.o.logger.info('read-only ClickHouse HTTP interface listening', { url: this.url, authentication: this.auth.required ? 'required' : 'none', tls: !!this.o.tls });
    if (!isLoopbackHost(host)) {
      if (!this.auth.required) this.o.logger.warn('the query interface accepts anyone who can reach it (query_insecure: true)', { url: this.url });
      else if (!this.o.tls) this.o.logger.warn('passwords reach the query interface in clear text over the network: set query_tls', { url: this.url });
    }
  }

  get port(): number {
    const a = this.server?.address();
    return typeof a === 'object' && a ? a.port : 0;
  }

  get url(): string {
    const a = this.server?.address();
    if (typeof a !== 'object' || !a) return '';
    return `${this.scheme}://${a.family === 'IPv6' ? `[${a.address}]` : a.address}:${a.port}`;
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://localhost');
    // A query_id becomes a response header: printable ASCII only (CR/LF would make setHeader throw before any answer).
    const askedId = url.searchParams.get('query_id');
    const idOk = !askedId || /^[\x21-\x7e]{1,128}$/.test(askedId);
    const queryId = askedId && idOk ? askedId : randomUUID();
    res.setHeader('X-ClickHouse-Server-Display-Name', 'trailhouse');
    res.setHeader('X-ClickHouse-Query-Id', queryId);
    res.setHeader('X-ClickHouse-Timezone', 'UTC');
    const method = req.method ?? 'GET';
    // For the query log: who asked what, and how it ended.
    const access: Access = { user: 'default', role: 'reader', database: '', query: '', began: process.hrtime.bigint(), rows: 0, bytes: 0 };
    try {
      if (!idOk) throw new HttpError(36, 'BAD_ARGUMENTS', 'query_id: expected up to 128 printable ASCII characters');
      if (url.pathname === '/ping' || url.pathname === '/replicas_status') {
        req.resume();
        return this.send(res, 200, 'text/html; charset=UTF-8', 'Ok.\n');
      }
      if (this.clientCerts && !(req.socket as tls.TLSSocket).authorized) {
        // Not reachable (secureConnection closed it); kept so a refused certificate can never reach a query.
        req.socket.destroy();
        return;
      }
      const who = await this.auth.authenticate(req, url);
      if (!who.ok) return sendRefusal(req, res, who, this.o.pool.version);
      // Who is asking, for the query path (admission by role) and the access log.
      const { user, role } = who;
      access.user = user;
      access.role = role;
      const route = url.pathname === '/' ? undefined : this.routes.find(url.pathname);
      if (route) return await route(req, res, url, { user, role, authenticated: this.auth.required, remote: req.socket.remoteAddress ?? '' });
      if (url.pathname !== '/') throw new HttpError(404, 'UNKNOWN_HANDLER', `There is no handle ${url.pathname}`);
      if (method !== 'GET' && method !== 'POST' && method !== 'HEAD') {
        throw new HttpError(1, 'UNSUPPORTED_METHOD', `HTTP method ${method} is not supported`);
      }
      const limit = this.o.maxQueryBytes ?? 16 * 1024 * 1024;
      let text = url.searchParams.get('query') ?? '';
      if (method === 'POST') {
        const body = await readBody(req, limit);
        if (body) text = text ? `${text}\n${body}` : body;
      } else {
        req.resume();
      }
      if (!text.trim() && method !== 'POST') return this.send(res, 200, 'text/html; charset=UTF-8', 'Ok.\n');
      access.query = text;
      const header = (name: string) => {
        const v = req.headers[name];
        return typeof v === 'string' && v ? v : undefined;
      };
      const database = url.searchParams.get('database') || header('x-clickhouse-database') || this.o.defaultDatabase;
      access.database = database;
      const defaultFormat = url.searchParams.get('default_format') || header('x-clickhouse-format') || 'TabSeparated';
      const params: Record<string, string> = Object.create(null) as Record<string, string>;
      for (const [k, v] of url.searchParams) if (k.startsWith('param_')) params[k.slice(6)] = v;
      // A client that goes away cancels its query (between result chunks).
      const gone = new AbortController();
      res.on('close', () => {
        if (!res.writableFinished) gone.abort();
      });
      const sent = await this.o.pool.withSession(async (session) => {
        const admitted = await admitQuery(session, text, database, admissionRole(role), { params, auditTables: this.o.auditTables });
        access.admitted = true;
        if (Object.keys(params).length > 0) access.executed = admitted.sql;
        const format = admitted.format ?? defaultFormat;
        checkFormat(format);
        await session.use(database);
        const stream = admitted.streamable ? session.stream(admitted.sql, format, gone.signal) : session.whole(admitted.sql, format);
        // A client that stops reading would hold the slot (the engine's own
        // time limit does not run while nobody fetches): the answer, sent or
        // not, ends with the time limit (and 2 s for the engine's own
        // TIMEOUT_EXCEEDED to arrive first).
        const deadline = setTimeout(() => res.destroy(), this.o.pool.limits.maxExecutionSeconds * 1000 + 2000);
        try {
          return await streamResult(req, res, url, stream, format, method === 'HEAD', VERSION_OF(this.o.pool));
        } finally {
          clearTimeout(deadline);
        }
      }, gone.signal);
      access.rows = sent.rows;
      access.bytes = sent.bytes;
      this.logQuery(req, queryId, access, 200);
      return;
    } catch (err) {
      if (res.headersSent) {
        // Failed mid-stream: streamResult wrote the error into the body and ended the connection.
        this.logQuery(req, queryId, access, 200, clickhouseCode(err) ?? 1000);
        return;
      }
      await this.o.pool.warm().catch(() => undefined);
      const e = formatException(err, this.o.pool.version || 'unknown');
      const status = err instanceof HttpError && err.type === 'UNKNOWN_HANDLER' ? 404 : err instanceof HttpError && err.code === 1 ? 501 : statusFor(e.code);
      res.setHeader('X-ClickHouse-Exception-Code', String(e.code));
      if (e.code === 202) res.setHeader('Retry-After', '1');
      this.logQuery(req, queryId, access, status, e.code);
      return this.send(res, status, 'text/plain; charset=UTF-8', e.body);
    }
  }

  /** The query log line and the `data_access` event (query-access.ts). */
  private logQuery(req: http.IncomingMessage, queryId: string, a: Access, status: number, code?: number): void {
    recordAccess(this.o.queryLog === false ? null : this.o.logger, req, queryId, a, status, code);
  }

  private send(res: http.ServerResponse, status: number, type: string, body: string | Uint8Array): void {
    res.statusCode = status;
    res.setHeader('Content-Type', type);
    res.setHeader('Content-Length', typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength);
    res.end(body);
  }

  async close(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    await this.auth.close();
    if (!s) return;
    s.closeIdleConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}

/** Query servers are shared per endpoint, like the store they serve. */
const servers = new Map<string, { server: QueryServer; refs: number; ready: Promise<void>; security: string }>();

const securityOf = (o: QueryServerOptions) => JSON.stringify([o.users ?? null, o.tls ?? null, !!o.insecure, o.throttle ?? null]);

export interface QueryServerLease {
  server: QueryServer;
  release(): Promise<void>;
}

export async function acquireQueryServer(o: QueryServerOptions): Promise<QueryServerLease> {
  const shareable = !o.endpoint.endsWith(':0');
  let entry = shareable ? servers.get(o.endpoint) : undefined;
  // Sharing a server must not quietly drop one config's users or TLS.
  if (entry && entry.security !== securityOf(o)) {
    throw new Error(`query_endpoint ${o.endpoint} is already served with other query_users, query_tls, query_insecure or query_login_throttle: give both exporters the same ones, or different endpoints`);
  }
  if (!entry) {
    const server = new QueryServer(o);
    entry = { server, refs: 0, ready: server.start(), security: securityOf(o) };
    if (shareable) servers.set(o.endpoint, entry);
    entry.ready.catch(() => servers.delete(o.endpoint));
  }
  entry.refs++;
  const e = entry;
  try {
    await e.ready;
  } catch (err) {
    e.refs--;
    throw err;
  }
  let released = false;
  return {
    server: e.server,
    release: async () => {
      if (released) return;
      released = true;
      if (--e.refs > 0) return;
      if (servers.get(o.endpoint) === e) servers.delete(o.endpoint);
      await e.server.close();
    },
  };
}
