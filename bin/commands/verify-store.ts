/**
 * `trailhouse verify` and `trailhouse proof` read the store over
 * ClickHouse's HTTP interface (oncall-http.ts): this is their VerifySource
 * (lib/audit/verify-store.ts, where the queries are), and the page reads by
 * connection that `proof` uses.
 */
import type { BodyFields } from '../../lib/audit/leaf.ts';
import * as store from '../../lib/audit/verify-store.ts';
import type { AuditTables, VerifySource } from '../../lib/audit/verify-store.ts';
import type { CheckpointInput, StoredRow } from '../../lib/audit/verify-types.ts';
import http from 'node:http';
import https from 'node:https';
import { QueryError, type Conn } from './oncall-http.ts';

export { auditTables, busyRetry, PAGE, type AuditTables, type OriginRange } from '../../lib/audit/verify-store.ts';

/**
 * A page's bytes (oncall-http.ts selectBytes, over node:http rather than
 * fetch: a page is tens of megabytes, and fetch's web streams cost more per
 * chunk on the way in).
 */
export function selectBytes(c: Conn, sql: string, params: Record<string, string>, format: string): Promise<Buffer> {
  const url = new URL(c.endpoint.includes('://') ? c.endpoint : `http://${c.endpoint}`);
  url.searchParams.set('database', c.database);
  url.searchParams.set('default_format', format);
  for (const [k, v] of Object.entries(params)) url.searchParams.set(`param_${k}`, v);
  const headers: Record<string, string> = { 'Content-Type': 'text/plain; charset=UTF-8' };
  if (c.user) headers['X-ClickHouse-User'] = c.user;
  if (c.password) headers['X-ClickHouse-Key'] = c.password;
  const body = `${sql}\nFORMAT ${format}`;
  return new Promise<Buffer>((resolve, reject) => {
    const req = (url.protocol === 'https:' ? https : http).request(url, { method: 'POST', headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (b: Buffer) => chunks.push(b));
      res.on('error', (err) => reject(new QueryError(`reading the answer of ${url.origin}: ${err.message}`, 0)));
      res.on('end', () => {
        if (!res.complete) return reject(new QueryError(`the answer of ${url.origin} ended early`, 0));
        const all = Buffer.concat(chunks);
        const status = res.statusCode ?? 0;
        if (status >= 200 && status < 300) return resolve(all);
        const text = all.toString('utf8');
        const code = Number(res.headers['x-clickhouse-exception-code'] ?? /Code: (\d+)/.exec(text)?.[1] ?? 0);
        reject(new QueryError(text.trim().split('\n')[0]!.slice(0, 500), code));
      });
    });
    req.on('error', (err) => reject(new QueryError(`cannot reach ${url.origin}: ${err.message}`, 0)));
    req.end(body);
  });
}

/** The HTTP interface as verify's source (QueryError carries the engine's code). */
export function httpSource(c: Conn): VerifySource {
  return { database: c.database, bytes: (sql, params, format) => selectBytes(c, sql, params, format) };
}

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why `--database` / `--table` cannot name a table (they go into the SQL as identifiers), or undefined. */
export function badIdentifiers(database: string, table: string | undefined): string | undefined {
  for (const [flag, v] of [['--database', database], ['--table', table]] as const) {
    if (v !== undefined && !IDENT.test(v)) return `${flag}: expected a name (letters, digits, _), got ${JSON.stringify(v)}`;
  }
  return undefined;
}

export const rowsPage = (c: Conn, t: AuditTables, origin: string, from: number, to: number): Promise<Buffer> => store.rowsPage(httpSource(c), t, origin, from, to);
export const leavesPage = (c: Conn, t: AuditTables, origin: string, from: number, to: number): Promise<Buffer> => store.leavesPage(httpSource(c), t, origin, from, to);
export const fullRowsPage = (c: Conn, t: AuditTables, origin: string, from: number, to: number): Promise<(StoredRow & BodyFields)[]> => store.fullRowsPage(httpSource(c), t, origin, from, to);
export const storeCheckpoints = (c: Conn, t: AuditTables): Promise<CheckpointInput[] | null> => store.storeCheckpoints(httpSource(c), t);
