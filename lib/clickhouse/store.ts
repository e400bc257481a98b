/**
 * Where the rows go: a ClickHouse server over HTTP, or ClickHouse's engine
 * in-process (chDB), both behind `@clickhouse/client`.
 *
 * chDB binds ONE data directory per process, and every component that needs
 * the store (this exporter, the correlate/audit processors, the query server)
 * must share that one engine. So stores live in a process-wide registry:
 * `openStore(options)` returns a lease on the store for its key (the data
 * directory, or the server endpoint + user), opening it on first use; the
 * store closes when the last lease is released. Asking for a second embedded
 * data directory while one is open fails with a clear error.
 */
import path from 'node:path';
import fs from 'node:fs';
import { Readable } from 'node:stream';
import type { ClickHouseClient } from '@clickhouse/client';
import type * as ClickhouseLib from '@clickhouse/client';
import { clickhouseClient } from './client-lib.ts';
import type { ChdbConnection } from 'chdb/connection';
import type * as ChdbConnectionModule from 'chdb/connection';
import type * as ChdbModule from 'chdb';
import { ReadonlyPool } from './query/readonly-pool.ts';
import type { NativeBlock } from './native.ts';
import { NativeSpool, scratchRoots } from './native-spool.ts';

/**
 * chDB is loaded on first embedded use only: its engine library maps ~200 MB
 * and takes ~200 ms to load, which a gateway writing to Kafka (or a CLI
 * command) should not pay for importing the component registry.
 */
type Chdb = { connection: typeof ChdbConnectionModule; engine: typeof ChdbModule };
let chdbModules: Promise<Chdb> | undefined;
function loadChdb(): Promise<Chdb> {
  return (chdbModules ??= Promise.all([import('chdb/connection'), import('chdb')]).then(([connection, engine]) => ({ connection, engine })));
}

/**
 * Loads the engine's library on this thread, for a process whose store runs
 * on a worker thread (core/pipeline-thread.ts). Node unloads the addons a
 * worker loaded when that worker ends, and chDB's library does not survive
 * being unloaded (the process segfaults as it exits); opened here as well,
 * the library stays loaded until the process ends.
 */
export async function holdEngineLibrary(): Promise<void> {
  await loadChdb();
}

type ClientConnection = NonNullable<NonNullable<Parameters<typeof ClickhouseLib.createClient>[0]>['connection']>;

export interface StoreOptions {
  /** `http(s)://host:port` of a ClickHouse server; null or '' = embedded chDB. */
  endpoint: string | null;
  /** Embedded: the data root; the engine's files live in `<path>/clickhouse`. */
  path: string;
  /** Embedded: the engine's directory itself (overrides `path`; `embedded://DIR`). */
  dataDir?: string;
  username: string;
  password: string;
  /** Per-request timeout for the server client (ms). */
  requestTimeoutMs?: number;
  /** Server: gzip request bodies (the HTTP interface's compression). */
  compressRequests?: boolean;
  /** Server: ClickHouse settings sent with every query (the Collector's connection_params). */
  settings?: Record<string, string>;
}

interface InsertBase {
  /** `database.table`. */
  table: string;
  /** The columns the rows carry, in order; required for JSONCompactEachRow and Native, optional for JSONEachRow. */
  columns?: readonly string[];
  /** Query-level settings for this insert only (e.g. insert_deduplication_token). */
  settings: Record<string, string | number>;
  signal?: AbortSignal;
}

export type InsertRequest =
  | (InsertBase & {
      format: 'JSONEachRow' | 'JSONCompactEachRow';
      /** Rows, one per line (UTF-8). */
      body: Buffer;
    })
  | (InsertBase & {
      /** Embedded engine only (native.ts). */
      format: 'Native';
      block: NativeBlock;
    });

export interface Store {
  readonly kind: 'embedded' | 'server';
  readonly key: string;
  /** Settles when the store can be used (embedded: the engine is loaded and open); rejects if it cannot. */
  ready(): Promise<void>;
  /** The ordinary client: on the chDB connection when embedded (available once ready). */
  readonly client: ClickHouseClient;
  /** DDL and other statements without a result. */
  command(sql: string, signal?: AbortSignal): Promise<void>;
  insert(req: InsertRequest): Promise<void>;
  /** A query's rows as objects (JSONEachRow; 64-bit integers arrive as strings). */
  queryRows<T = Record<string, unknown>>(sql: string, signal?: AbortSignal): Promise<T[]>;
  /** Embedded only: the engine's data directory. */
  readonly dataDir: string | null;
  /** Embedded only: fresh read-only sessions (readonly=1, fixed limits) on the same engine, for the query server. */
  readonly readonly: ReadonlyPool | null;
  close(): Promise<void>;
}

export function storeKey(o: StoreOptions): string {
  return o.endpoint ? `server:${o.username}@${o.endpoint}` : `embedded:${engineDirOf(o)}`;
}

function engineDirOf(o: StoreOptions): string {
  return o.dataDir ? path.resolve(o.dataDir) : engineDir(o.path);
}

/**
 * Store options from an endpoint string, as other components configure it:
 * `embedded://DIR` (the engine's directory) or `http(s)://host:port`.
 */
export function storeOptionsFor(endpoint: string, creds: { username?: string; password?: string } = {}): StoreOptions {
  if (endpoint.startsWith('embedded://')) return { endpoint: null, path: '.', dataDir: endpoint.slice('embedded://'.length) || '.', username: '', password: '' };
  return { endpoint, path: '.', username: creds.username ?? '', password: creds.password ?? '' };
}

export function engineDir(root: string): string {
  return path.resolve(root, 'clickhouse');
}

class EmbeddedStore implements Store {
  readonly kind = 'embedded' as const;
  readonly readonly: ReadonlyPool;
  /** Native blocks reach the engine as files in a scratch directory. */
  private readonly native: NativeSpool;
  private readonly opened: Promise<{ conn: ChdbConnection; client: ClickHouseClient }>;
  private opening: { conn: ChdbConnection; client: ClickHouseClient } | undefined;

  constructor(readonly key: string, readonly dataDir: string) {
    this.native = new NativeSpool(scratchRoots(`${dataDir}.scratch`));
    // The engine loads in the background; every method waits for it.
    this.opened = loadChdb().then((chdb) => {
      fs.mkdirSync(dataDir, { recursive: true });
      const conn = chdb.connection.createChdbConnection({ path: dataDir });
      // chdb/connection implements @clickhouse/client-common's Connection; the
      // client bundles its own copy of those types, which differ only nominally.
      const client = clickhouseClient().createClient({ connection: conn as unknown as ClientConnection, log: { level: clickhouseClient().ClickHouseLogLevel.OFF } });
      this.opening = { conn, client };
      return this.opening;
    });
    this.opened.catch(() => undefined);
    this.readonly = new ReadonlyPool(dataDir, async () => {
      await this.opened;
      const { engine } = await loadChdb();
      return { Session: engine.Session };
    });
  }

  async ready(): Promise<void> {
    await this.opened;
  }

  get client(): ClickHouseClient {
    if (!this.opening) throw new Error('the embedded ClickHouse engine is still opening: await store.ready() first');
    return this.opening.client;
  }

  async command(sql: string, signal?: AbortSignal): Promise<void> {
    const { client } = await this.opened;
    await client.command({ query: sql, abort_signal: signal });
  }

  async queryRows<T>(sql: string, signal?: AbortSignal): Promise<T[]> {
    const { client } = await this.opened;
    // Quoted 64-bit integers, as a server's default: same shape from both stores.
    const settings = { output_format_json_quote_64bit_integers: 1 } as const;
    return (await client.query({ query: sql, format: 'JSONEachRow', abort_signal: signal, clickhouse_settings: settings })).json<T>();
  }

  async insert(req: InsertRequest): Promise<void> {
    const { conn } = await this.opened;
    if (req.format === 'Native') {
      await this.native.insert(req, (sql, signal) => conn.chdb.queryAsync(sql, { signal }));
      return;
    }
    // The raw path hands the payload to the engine's parser as bytes, and puts
    // the settings in the INSERT's own SETTINGS clause: a session-wide SET (what
    // clickhouse_settings becomes on the chDB connection) would outlive the insert.
    await conn.chdb.rawInsert({
      table: req.table,
      columns: req.columns?.length ? req.columns : undefined,
      values: req.body,
      format: req.format,
      settings: req.settings,
      signal: req.signal,
    });
  }

  async close(): Promise<void> {
    this.readonly.close();
    this.native.close();
    const opened = await this.opened.catch(() => undefined);
    await opened?.client.close();
  }
}

class ServerStore implements Store {
  readonly kind = 'server' as const;
  readonly client: ClickHouseClient;
  readonly dataDir = null;
  readonly readonly = null;

  constructor(readonly key: string, o: StoreOptions) {
    // No default database on the connection: it may not exist before the
    // schema is created, and every statement we send is fully qualified.
    this.client = clickhouseClient().createClient({
      url: o.endpoint!,
      username: o.username || 'default',
      password: o.password,
      request_timeout: o.requestTimeoutMs ?? 30_000,
      keep_alive: { enabled: true },
      compression: { request: o.compressRequests ?? false, response: true },
      clickhouse_settings: o.settings ?? {},
      // Failures reach the exporter helper, which logs once per condition;
      // the client would log every failed request.
      log: { level: clickhouseClient().ClickHouseLogLevel.OFF },
    });
  }

  async command(sql: string, signal?: AbortSignal): Promise<void> {
    await this.client.command({ query: sql, abort_signal: signal });
  }

  async ready(): Promise<void> {}

  async queryRows<T>(sql: string, signal?: AbortSignal): Promise<T[]> {
    // Quoted 64-bit integers, as a server's default: same shape from both stores.
    const settings = { output_format_json_quote_64bit_integers: 1 } as const;
    return (await this.client.query({ query: sql, format: 'JSONEachRow', abort_signal: signal, clickhouse_settings: settings })).json<T>();
  }

  async insert(req: InsertRequest): Promise<void> {
    if (req.format === 'Native') throw new Error('Native inserts are for the embedded engine; a server gets JSONCompactEachRow');
    const cols = req.columns?.length ? ` (${req.columns.join(', ')})` : '';
    const res = await this.client.exec({
      query: `INSERT INTO ${req.table}${cols} FORMAT ${req.format}`,
      values: Readable.from([req.body]),
      clickhouse_settings: req.settings,
      abort_signal: req.signal,
    });
    res.stream.resume();
    await new Promise<void>((resolve, reject) => {
      res.stream.once('end', resolve);
      res.stream.once('close', resolve);
      res.stream.once('error', reject);
    });
  }

  async close(): Promise<void> {
    await this.client.close();
  }
}

interface Entry {
  refs: number;
  store: Store;
}

const registry = new Map<string, Entry>();

export interface StoreLease {
  readonly store: Store;
  /** Releases this lease (idempotent); the store closes with its last lease. */
  release(): Promise<void>;
}

/**
 * Opens (or shares) the store for these options. Returns at once; an
 * embedded engine finishes opening in the background (`store.ready()`).
 */
export function openStore(o: StoreOptions): StoreLease {
  const key = storeKey(o);
  let entry = registry.get(key);
  if (!entry) {
    if (!o.endpoint) {
      for (const k of registry.keys()) {
        if (k.startsWith('embedded:')) {
          throw new Error(
            `the embedded ClickHouse engine is already open at ${k.slice(9)}; chDB allows one data directory per process (asked for ${engineDirOf(o)})`,
          );
        }
      }
    }
    entry = { refs: 0, store: o.endpoint ? new ServerStore(key, o) : new EmbeddedStore(key, engineDirOf(o)) };
    registry.set(key, entry);
  }
  const e = entry;
  e.refs++;
  let released = false;
  return {
    store: e.store,
    release: async () => {
      if (released) return;
      released = true;
      if (--e.refs > 0) return;
      if (registry.get(key) === e) registry.delete(key);
      await e.store.close();
    },
  };
}

/** The open embedded store, if any (for components that only read it). */
export function currentEmbeddedStore(): Store | undefined {
  for (const [k, e] of registry) if (k.startsWith('embedded:')) return e.store;
  return undefined;
}
