/**
 * The seam between these processors (audit, correlate) and the process-wide
 * ClickHouse store owned by exporters/clickhouse (its registry shares one
 * chDB engine per process, or one client per server): DDL, inserts with an
 * optional dedup token, and reads. Rows are encoded for the store they go
 * to: Native blocks for the embedded engine (a fraction of its CPU per row),
 * JSONEachRow for a server.
 */
import { DEFAULT_INSERT_POLICY, insertWithPolicy, type InsertMetrics, type InsertPolicy } from './insert.ts';
import { NATIVE_SUPPORTED, type NativeBlock } from './native.ts';
import { openStore, type StoreOptions } from './store.ts';

/** The same rows in both encodings; only the one the store takes is built. */
export interface Rows {
  /** JSONEachRow lines, '\n'-separated. */
  json(): string;
  /** One Native block, columns in the insert's column order. */
  native(): NativeBlock;
}

export interface SqlStore {
  /** Runs a statement that returns nothing (DDL). */
  exec(sql: string): Promise<void>;
  /** INSERT INTO `table` (columns), deduplicated by `dedupToken` when given; malformed rows → PermanentError. `settings`: more ClickHouse settings of the insert. */
  insert(table: string, columns: readonly string[], rows: Rows, opts: { dedupToken?: string; settings?: Readonly<Record<string, string | number>> }): Promise<void>;
  /** A SELECT's rows as objects (64-bit integers arrive as strings). */
  query<T = Record<string, unknown>>(sql: string): Promise<T[]>;
}

export interface SqlStoreHandle {
  store: SqlStore;
  release(): Promise<void>;
}

/**
 * A lease on the shared store these options name (see store-config.ts
 * resolveStore). Inserts take the store's one insert path (insert.ts):
 * dedup token, timeout, bounded retries, PermanentError for malformed rows,
 * per-table metrics when `metrics` is given.
 */
export function openSqlStore(o: StoreOptions, metrics?: InsertMetrics, policy: InsertPolicy = DEFAULT_INSERT_POLICY): SqlStoreHandle {
  const lease = openStore(o);
  const s = lease.store;
  return {
    store: {
      exec: (sql) => s.command(sql),
      insert: async (table, columns, rows, opts) => {
        const settings: Record<string, string | number> = { ...opts.settings, ...(opts.dedupToken ? { insert_deduplication_token: opts.dedupToken } : {}) };
        if (s.kind === 'embedded' && NATIVE_SUPPORTED) {
          const block = rows.native();
          await insertWithPolicy(s, { table, columns, format: 'Native', block, settings }, block.rows, policy, metrics);
        } else {
          const body = Buffer.from(rows.json(), 'utf8');
          await insertWithPolicy(s, { table, columns, format: 'JSONEachRow', body, settings }, jsonLines(body), policy, metrics);
        }
      },
      query: <T>(sql: string) => s.queryRows<T>(sql),
    },
    release: () => lease.release(),
  };
}

/** Rows of a JSONEachRow body: its non-empty lines. */
function jsonLines(body: Buffer): number {
  let n = 0;
  let start = 0;
  for (let at = body.indexOf(0x0a); at >= 0; at = body.indexOf(0x0a, start)) {
    if (at > start) n++;
    start = at + 1;
  }
  return start < body.length ? n + 1 : n;
}
