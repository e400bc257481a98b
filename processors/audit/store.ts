/**
 * The seam between these processors (audit, correlate) and the process-wide
 * ClickHouse store: DDL, JSONEachRow inserts with a dedup token, and reads.
 *
 * TEMPORARY: until exporters/clickhouse publishes its shared store registry,
 * this opens its own (one chDB session per data directory per process, or a
 * plain HTTP client for a server). It will delegate to the exporter's
 * registry, which must own the embedded engine: chDB binds one data
 * directory per process.
 */
import type { Logger } from '../../core/telemetry/logger.ts';

export interface SqlStore {
  /** Runs a statement that returns nothing (DDL). */
  exec(sql: string): Promise<void>;
  /** INSERT INTO `table` FORMAT JSONEachRow, deduplicated by `dedupToken`. */
  insertJsonEachRow(table: string, rows: string, opts: { dedupToken?: string }): Promise<void>;
  /** A SELECT's rows, as JSON objects. */
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
}

export interface SqlStoreHandle {
  store: SqlStore;
  release(): Promise<void>;
}

interface Entry {
  store: SqlStore;
  refs: number;
  close(): Promise<void>;
}

const registry = new Map<string, Promise<Entry>>();

export async function openSqlStore(endpoint: string, _logger: Logger): Promise<SqlStoreHandle> {
  let p = registry.get(endpoint);
  if (!p) {
    p = endpoint.startsWith('embedded://') ? openEmbedded(endpoint.slice('embedded://'.length)) : openHttp(endpoint);
    registry.set(endpoint, p);
    p.catch(() => registry.delete(endpoint));
  }
  const e = await p;
  e.refs++;
  let released = false;
  return {
    store: e.store,
    release: async () => {
      if (released) return;
      released = true;
      if (--e.refs === 0) {
        registry.delete(endpoint);
        await e.close();
      }
    },
  };
}

async function openEmbedded(dir: string): Promise<Entry> {
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir, { recursive: true });
  const { Session } = await import('chdb');
  const session = new Session(dir);
  const store: SqlStore = {
    async exec(sql) {
      await session.queryAsync(sql);
    },
    async insertJsonEachRow(table, rows, opts) {
      await session.insert({
        table,
        values: rows,
        format: 'JSONEachRow',
        settings: opts.dedupToken ? { insert_deduplication_token: opts.dedupToken } : {},
      });
    },
    async query<T>(sql: string) {
      const text = (await session.queryAsync(sql, { format: 'JSONEachRow' })).text();
      return text
        .split('\n')
        .filter((l) => l)
        .map((l) => JSON.parse(l) as T);
    },
  };
  return { store, refs: 0, close: async () => session.close() };
}

async function openHttp(endpoint: string): Promise<Entry> {
  const base = new URL(endpoint);
  const call = async (sql: string, body?: string, settings: Record<string, string> = {}): Promise<string> => {
    const url = new URL(base);
    for (const [k, v] of Object.entries(settings)) url.searchParams.set(k, v);
    if (body !== undefined) url.searchParams.set('query', sql);
    const res = await fetch(url, { method: 'POST', body: body ?? sql });
    const text = await res.text();
    if (!res.ok) throw new Error(`ClickHouse ${res.status}: ${text.slice(0, 500)}`);
    return text;
  };
  const store: SqlStore = {
    async exec(sql) {
      await call(sql);
    },
    async insertJsonEachRow(table, rows, opts) {
      await call(`INSERT INTO ${table} FORMAT JSONEachRow`, rows, opts.dedupToken ? { insert_deduplication_token: opts.dedupToken } : {});
    },
    async query<T>(sql: string) {
      const text = await call(`${sql} FORMAT JSONEachRow`);
      return text
        .split('\n')
        .filter((l) => l)
        .map((l) => JSON.parse(l) as T);
    },
  };
  return { store, refs: 0, close: async () => {} };
}
