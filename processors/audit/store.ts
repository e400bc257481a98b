/**
 * The seam between these processors (audit, correlate) and the process-wide
 * ClickHouse store owned by exporters/clickhouse (its registry shares one
 * chDB engine per process, or one client per server): DDL, JSONEachRow
 * inserts with an optional dedup token, and reads.
 */
import { classifyInsertError, openStore } from '../../exporters/clickhouse/index.ts';

/** Where the store is, as the clickhouse exporter's config names it. */
export interface StoreLocation {
  /** `http(s)://host:port` of a ClickHouse server; null = the embedded engine. */
  endpoint: string | null;
  /** Embedded: the data root (the engine lives in `<path>/clickhouse`), as the exporter's `path`. */
  path: string;
  username: string;
  password: string;
}

export interface SqlStore {
  /** Runs a statement that returns nothing (DDL). */
  exec(sql: string): Promise<void>;
  /** INSERT INTO `table` (columns) FORMAT JSONEachRow, deduplicated by `dedupToken` when given; malformed rows → PermanentError. */
  insertJsonEachRow(table: string, columns: readonly string[], rows: string, opts: { dedupToken?: string }): Promise<void>;
  /** A SELECT's rows as objects (64-bit integers arrive as strings). */
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
}

export interface SqlStoreHandle {
  store: SqlStore;
  release(): Promise<void>;
}

export function openSqlStore(loc: StoreLocation): SqlStoreHandle {
  const lease = openStore({ endpoint: loc.endpoint || null, path: loc.path, username: loc.username, password: loc.password });
  const s = lease.store;
  return {
    store: {
      exec: (sql) => s.command(sql),
      // Rows ClickHouse rejects as malformed are a PermanentError (never retried), as in the exporter.
      insertJsonEachRow: (table, columns, rows, opts) =>
        s
          .insert({ table, columns, format: 'JSONEachRow', body: Buffer.from(rows, 'utf8'), settings: opts.dedupToken ? { insert_deduplication_token: opts.dedupToken } : {} })
          .catch((err: unknown) => {
            throw classifyInsertError(err, table);
          }),
      query: <T>(sql: string) => s.queryRows<T>(sql),
    },
    release: () => lease.release(),
  };
}
