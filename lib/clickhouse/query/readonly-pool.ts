/**
 * Read-only sessions on the embedded engine, for the query server.
 *
 * Every request gets a FRESH chDB session (about a millisecond to open: a
 * connection to the engine already running in this process), closed when the
 * request ends: no `USE`, `SET`, temporary table or result buffer of one
 * request survives into the next. Each session is opened with fixed limits
 * the query cannot change (`readonly=1`: no write, no DDL, no setting change,
 * no `SETTINGS` lifting a cap; file/URL/remote table functions are refused by
 * the engine too), and results are streamed chunk by chunk (a chunk is about
 * 0.5 MiB), so a large answer is never held in memory.
 *
 * Concurrency is bounded: `running` queries at a time, `queued` more waiting
 * for a slot, beyond which `acquire` fails with TOO_MANY_SIMULTANEOUS_QUERIES
 * (HTTP 503 + Retry-After). A slot is held until the engine is done with the
 * query, not until the client goes away, so abandoned queries cannot pile up
 * inside the engine: a cancelled stream stops at its next chunk, and a query
 * that is computing is stopped by max_execution_time.
 */
import type { ChdbQueryStream, ChdbResult, Session } from 'chdb';
import { AdmissionError } from '../errors.ts';

export interface QueryLimits {
  /** Seconds a query may run (max_execution_time). */
  maxExecutionSeconds: number;
  /** Result bytes / rows a query may produce (result_overflow_mode=throw). */
  maxResultBytes: number;
  maxResultRows: number;
  /** Memory one query may use (max_memory_usage). */
  maxMemoryBytes: number;
  /** Threads one query may use: the rest of the CPU stays with ingest. */
  maxThreads: number;
  /** Queries running at once, and waiting for a slot. */
  running: number;
  queued: number;
}

export const DEFAULT_QUERY_LIMITS: QueryLimits = {
  maxExecutionSeconds: 60,
  maxResultBytes: 1024 * 1024 * 1024,
  maxResultRows: 100_000_000,
  maxMemoryBytes: 1024 * 1024 * 1024,
  maxThreads: 1,
  running: 2,
  queued: 4,
};

/** The engine settings of every query session (`clickhouse local` command-line form). */
export function sessionArgs(l: QueryLimits): string[] {
  return [
    // readonly=1: reads only, and no setting may change (SET, SETTINGS,
    // changing readonly itself), so the limits below are final.
    '--readonly=1',
    '--allow_ddl=0',
    '--allow_introspection_functions=0',
    `--max_execution_time=${l.maxExecutionSeconds}`,
    '--timeout_overflow_mode=throw',
    `--max_result_bytes=${l.maxResultBytes}`,
    `--max_result_rows=${l.maxResultRows}`,
    '--result_overflow_mode=throw',
    `--max_memory_usage=${l.maxMemoryBytes}`,
    `--max_threads=${l.maxThreads}`,
    // JSON quotes 64-bit integers, as a ClickHouse server does by default.
    '--output_format_json_quote_64bit_integers=1',
  ];
}

/** One piece of a result, as chDB's stream gives it. */
export interface ResultChunk {
  readonly numRows: number;
  readonly numBytes: number;
  raw(): Uint8Array;
}

function quoteIdent(name: string): string {
  return '`' + name.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';
}

/** One request's session. */
export class ReadonlySession {
  constructor(private readonly s: Session, readonly engineKey?: string) {}

  /** A small answer as text (admission's own statements). */
  async text(sql: string): Promise<string> {
    return (await this.s.queryAsync(sql, { format: 'TabSeparatedRaw' })).text();
  }

  async use(database: string): Promise<void> {
    await this.s.queryAsync(`USE ${quoteIdent(database)}`, { format: 'TabSeparated' });
  }

  /** The result chunk by chunk; the signal stops it between chunks. */
  stream(sql: string, format: string, signal?: AbortSignal): ChdbQueryStream {
    // chDB turns the lowercase 'arrow' into a multi-statement with a SET.
    return this.s.queryStream(sql, { format: format === 'arrow' ? 'Arrow' : format, signal });
  }

  /** A small answer (DESCRIBE, which chDB does not stream) as one chunk. */
  async *whole(sql: string, format: string): AsyncGenerator<ResultChunk> {
    const r = await this.s.queryAsync(sql, { format });
    const bytes = r.bytes();
    yield { numRows: Math.max(0, r.text().split('\n').length - 1), numBytes: bytes.byteLength, raw: () => bytes };
  }

  /** A whole answer (tests, small internal queries). */
  run(sql: string, format = 'TabSeparated'): Promise<ChdbResult> {
    return this.s.queryAsync(sql, { format });
  }
}

export class ReadonlyPool {
  private closed = false;
  private engine: { Session: typeof Session } | undefined;
  private versionText = '';
  private active = 0;
  private readonly waiting: { resolve: () => void; reject: (e: unknown) => void }[] = [];
  readonly args: string[];

  constructor(
    private readonly dataDir: string,
    /** Waits for the engine (loaded lazily by the store) and hands over its Session class. */
    private readonly load: () => Promise<{ Session: typeof Session }>,
    readonly limits: QueryLimits = DEFAULT_QUERY_LIMITS,
  ) {
    this.args = sessionArgs(limits);
  }

  /** Queries running and waiting now. */
  get usage(): { running: number; queued: number } {
    return { running: this.active, queued: this.waiting.length };
  }

  private async slot(signal?: AbortSignal): Promise<void> {
    if (this.active < this.limits.running) {
      this.active++;
      return;
    }
    if (this.waiting.length >= this.limits.queued) {
      throw new AdmissionError(
        `Too many simultaneous queries: ${this.limits.running} running and ${this.limits.queued} waiting is the limit of this interface; retry shortly`,
        202,
        'TOO_MANY_SIMULTANEOUS_QUERIES',
      );
    }
    await new Promise<void>((resolve, reject) => {
      const entry = { resolve, reject };
      this.waiting.push(entry);
      signal?.addEventListener('abort', () => {
        const i = this.waiting.indexOf(entry);
        if (i >= 0) {
          this.waiting.splice(i, 1);
          reject(new AdmissionError('the client went away while the query waited', 394, 'QUERY_WAS_CANCELLED'));
        }
      }, { once: true });
    });
  }

  private release(): void {
    const next = this.waiting.shift();
    if (next) next.resolve(); // the slot passes on
    else this.active--;
  }

  /**
   * Runs `fn` on a fresh read-only session once a slot is free; the session
   * is closed and the slot freed when `fn` settles.
   */
  async withSession<T>(fn: (s: ReadonlySession) => Promise<T>, signal?: AbortSignal): Promise<T> {
    if (this.closed) throw new Error('the embedded store is closed');
    await this.slot(signal);
    let session: Session | undefined;
    try {
      if (this.closed) throw new Error('the embedded store is closed');
      this.engine ??= await this.load();
      session = new this.engine.Session(this.dataDir, { connectionArgs: this.args });
      const s = new ReadonlySession(session, this.dataDir);
      this.versionText ||= (await s.text('SELECT version()')).trim();
      return await fn(s);
    } finally {
      session?.close();
      this.release();
    }
  }

  /** Runs one statement as it is, on a fresh read-only session (tests: the engine's own refusals). */
  run(q: { sql: string; format?: string; database?: string }): Promise<ChdbResult> {
    return this.withSession(async (s) => {
      if (q.database) await s.use(q.database);
      return s.run(q.sql, q.format);
    });
  }

  /** The engine's ClickHouse version (for error texts); '' until the first query. */
  get version(): string {
    return this.versionText;
  }

  /** Opens a session if none was, so `version` is known. */
  async warm(): Promise<void> {
    if (!this.versionText && this.active < this.limits.running) await this.withSession(async () => undefined);
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiting.splice(0)) w.reject(new Error('the embedded store is closed'));
  }
}
