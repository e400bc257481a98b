/**
 * Read-only sessions on the embedded engine, for the query server.
 *
 * Each is a chDB session on the same data directory opened with the engine's
 * own `readonly=2` setting (`--readonly=2` at connect): INSERT, DDL, ALTER,
 * SYSTEM, OPTIMIZE, KILL and changing `readonly` itself are refused by
 * ClickHouse (code 164 READONLY), while per-query SETTINGS still work. A chDB
 * session runs one query at a time, so a small pool of them serves queries in
 * parallel; each request is serialized on its session together with the `USE`
 * that selects its database.
 */
import type { ChdbResult, Session } from 'chdb';

export interface ReadonlyQuery {
  sql: string;
  /** Output format when the SQL has no FORMAT clause. */
  format: string;
  database: string;
  /** Query parameters ({name:Type} placeholders), as text like ClickHouse's HTTP `param_<name>`. */
  params?: Record<string, string>;
  signal?: AbortSignal;
}

/**
 * readonly=2: no writes or DDL, per-query SETTINGS allowed (except readonly).
 * JSON output quotes 64-bit integers, as a ClickHouse server does by default.
 * chDB buffers a whole result in memory inside the ingesting process, so an
 * unbounded `SELECT * FROM system.numbers` must fail rather than exhaust it:
 * results are capped at 256 MiB and queries at 10 minutes (a query may raise
 * both with its own SETTINGS).
 */
export const SESSION_ARGS = [
  '--readonly=2',
  '--output_format_json_quote_64bit_integers=1',
  '--max_result_bytes=268435456',
  '--result_overflow_mode=throw',
  '--max_execution_time=600',
];

interface Slot {
  session: Session | null;
  database: string;
  tail: Promise<unknown>;
  pending: number;
}

function quoteIdent(name: string): string {
  return '`' + name.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';
}

export class ReadonlyPool {
  private readonly slots: Slot[];
  private closed = false;

  private engine: { Session: typeof Session } | undefined;
  private versionText = '';

  constructor(
    private readonly dataDir: string,
    /** Waits for the engine (loaded lazily by the store) and hands over its Session class. */
    private readonly load: () => Promise<{ Session: typeof Session }>,
    size = 2,
  ) {
    this.slots = Array.from({ length: size }, () => ({ session: null, database: '', tail: Promise.resolve(), pending: 0 }));
  }

  run(q: ReadonlyQuery): Promise<ChdbResult> {
    if (this.closed) return Promise.reject(new Error('the embedded store is closed'));
    let slot = this.slots[0]!;
    for (const s of this.slots) if (s.pending < slot.pending) slot = s;
    slot.pending++;
    const result = slot.tail.then(() => this.exec(slot, q));
    slot.tail = result.catch(() => undefined).finally(() => slot.pending--);
    return result;
  }

  private async exec(slot: Slot, q: ReadonlyQuery): Promise<ChdbResult> {
    if (this.closed) throw new Error('the embedded store is closed');
    this.engine ??= await this.load();
    if (!slot.session) {
      slot.session = new this.engine.Session(this.dataDir, { connectionArgs: SESSION_ARGS });
      this.versionText ||= (await slot.session.queryAsync('SELECT version()', { format: 'TabSeparated' })).text().trim();
    }
    const session = slot.session;
    if (slot.database !== q.database) {
      await session.queryAsync(`USE ${quoteIdent(q.database)}`, { format: 'TabSeparated' });
      slot.database = q.database;
    }
    const opts = { format: q.format, signal: q.signal };
    if (q.params && Object.keys(q.params).length > 0) return session.queryBindAsync(q.sql, q.params, opts);
    return session.queryAsync(q.sql, opts);
  }

  /** The engine's ClickHouse version (for error texts); '' until the first query. */
  get version(): string {
    return this.versionText;
  }

  /** Opens a session if none is, so `version` is known. */
  async warm(): Promise<void> {
    if (!this.versionText) await this.run({ sql: 'SELECT 1', format: 'TabSeparated', database: 'system' });
  }

  close(): void {
    this.closed = true;
    for (const s of this.slots) {
      s.session?.close();
      s.session = null;
    }
  }
}
