/**
 * What verify (verify-run.ts) and `trailhouse proof` read from the store:
 * checkpoints, the origins and their index ranges, then rows and leaf
 * records page by page — one LogIndex range per request, so no single
 * answer is huge and the minmax index on LogIndex skips the rest.
 *
 * Everything goes through one seam, `VerifySource`: a SELECT's whole answer
 * by SQL and `{name:Type}` parameters, run in the source's database (tables
 * are named unqualified). The CLI's source is ClickHouse's HTTP interface
 * (bin/commands/verify-store.ts); the pipeline's own self-check reads its
 * store in-process (self-verify-source.ts).
 */
import type { BodyFields } from './leaf.ts';
import type { PolicyEvent } from './verify-retention.ts';
import type { CheckpointInput, StoredRow } from './verify-types.ts';

export interface VerifySource {
  /** The database the tables are in (the SQL names them unqualified). */
  readonly database: string;
  /**
   * A SELECT's whole answer in `format`, its `{name:Type}` parameters bound
   * to `params`. Errors carry ClickHouse's numeric `code` (60/81 missing,
   * 202 busy) when there is one.
   */
  bytes(sql: string, params: Record<string, string>, format: 'RowBinary' | 'JSONEachRow'): Promise<Buffer>;
}

/** ClickHouse's error code of a source's error (a number or a numeric string), or undefined. */
export function errorCode(err: unknown): number | undefined {
  const c = (err as { code?: unknown } | null)?.code;
  const n = typeof c === 'number' ? c : typeof c === 'string' && /^\d+$/.test(c) ? Number(c) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

const missing = (err: unknown) => {
  const c = errorCode(err);
  return c === 60 || c === 81;
};

export async function select<T>(s: VerifySource, sql: string, params: Record<string, string> = {}): Promise<T[]> {
  const text = (await s.bytes(sql, params, 'JSONEachRow')).toString('utf8');
  const rows: T[] = [];
  for (const line of text.split('\n')) if (line) rows.push(JSON.parse(line) as T);
  return rows;
}

/** UNKNOWN_TABLE / UNKNOWN_DATABASE: that part of the store is not set up (null). */
export async function selectOptional<T>(s: VerifySource, sql: string, params: Record<string, string> = {}): Promise<T[] | null> {
  try {
    return await select<T>(s, sql, params);
  } catch (err) {
    if (missing(err)) return null;
    throw err;
  }
}

/** The audit table and, named after it (log-schema.ts), the log's leaves and checkpoints tables. */
export interface AuditTables { events: string; leaves: string; checkpoints: string }

export function auditTables(table = 'audit_events'): AuditTables {
  return { events: table, leaves: `${table}_log_leaves`, checkpoints: `${table}_checkpoints` };
}

/**
 * Indexes per request. Pages are fetched two ahead while the one before is
 * hashed, so a smaller page starts the hashing sooner; a much smaller one
 * costs more requests than it saves (measured in docs/benchmarks-log.md).
 */
export const PAGE = 50_000;

/**
 * A page read, again after a second while the store is busy (code 202
 * TOO_MANY_SIMULTANEOUS_QUERIES: other users' queries and verify's own
 * pages share its slots), up to a minute.
 */
export async function busyRetry(read: () => Promise<Buffer>): Promise<Buffer> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (errorCode(err) !== 202 || attempt >= 60) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

interface CheckpointRow { Origin: string; Size: string; Root: string; KeyName: string; KeyId: string; Note: string }

/** The checkpoints table as verify inputs; null when the store has no such table. */
export async function storeCheckpoints(s: VerifySource, t: AuditTables): Promise<CheckpointInput[] | null> {
  const rows = await selectOptional<CheckpointRow>(s, `SELECT Origin, toString(Size) AS Size, RootHash AS Root, KeyName, KeyId, Note FROM ${t.checkpoints} ORDER BY Origin, Size, Time`);
  if (!rows) return null;
  const where = `${s.database}.${t.checkpoints}`;
  return rows.map((r) => ({
    source: 'store' as const,
    where,
    note: r.Note,
    claimed: { origin: r.Origin, size: Number(r.Size), root: Buffer.from(r.Root, 'hex'), key: `${r.KeyName}+${r.KeyId}` },
  }));
}

export interface OriginRange { origin: string; rows: number; end: number }

/** Per origin: how many rows, and one past the highest index in rows or leaf records. */
export async function originRanges(s: VerifySource, t: AuditTables): Promise<OriginRange[]> {
  const rows = await select<{ o: string; n: string; hi: string }>(s, `SELECT LogOrigin AS o, toString(count()) AS n, toString(max(LogIndex)) AS hi FROM ${t.events} GROUP BY LogOrigin`);
  const recs = (await selectOptional<{ o: string; hi: string }>(s, `SELECT LogOrigin AS o, toString(max(LogIndex)) AS hi FROM ${t.leaves} GROUP BY LogOrigin`)) ?? [];
  const by = new Map<string, OriginRange>();
  for (const r of rows) by.set(r.o, { origin: r.o, rows: Number(r.n), end: Number(r.hi) + 1 });
  for (const r of recs) {
    const had = by.get(r.o);
    if (had) had.end = Math.max(had.end, Number(r.hi) + 1);
    else by.set(r.o, { origin: r.o, rows: 0, end: Number(r.hi) + 1 });
  }
  return [...by.values()];
}

interface RowJson {
  i: string;
  ns: string;
  Category: string;
  Outcome: string;
  ServiceName: string;
  Action: string;
  Principal: string;
  Source: string;
  Destination: string;
  Resource: string;
  Policy: string;
  TraceId: string;
  SpanId: string;
  Details: Record<string, string>;
}

const ROW_COLUMNS = `toString(LogIndex) AS i, toString(toUnixTimestamp64Nano(Timestamp)) AS ns, Category, Outcome, ServiceName, Action, Principal,
  Source, Destination, Resource, Policy, TraceId, SpanId, Details`;

function toRow(origin: string, r: RowJson): StoredRow & BodyFields {
  return {
    origin,
    index: Number(r.i),
    timeNs: BigInt(r.ns),
    category: r.Category,
    outcome: r.Outcome,
    service: r.ServiceName,
    action: r.Action,
    principal: r.Principal,
    source: r.Source,
    destination: r.Destination,
    resource: r.Resource,
    policy: r.Policy,
    traceId: r.TraceId,
    spanId: r.SpanId,
    details: r.Details,
  };
}

const RANGE = 'WHERE LogOrigin = {o:String} AND LogIndex >= {a:UInt64} AND LogIndex < {b:UInt64}';
const range = (origin: string, from: number, to: number) => ({ o: origin, a: String(from), b: String(to) });

/** The columns a rows page and a leaves page start with (verify-rowbinary.ts), in RowBinary (which writes a LowCardinality(String) as a String). */
const HEADER = 'LogIndex, toUnixTimestamp64Nano(Timestamp), CAST(Category AS String), CAST(Outcome AS String), CAST(ServiceName AS String)';

/** str(x) of leaf.ts in SQL: the UInt32 byte length big-endian (reinterpretAsString is little-endian and drops trailing zero bytes; toFixedString puts them back), then the bytes. */
const u32be = (x: string) => `reverse(toFixedString(reinterpretAsString(toUInt32(length(${x}))), 4))`;
const str = (x: string) => `${u32be(x)}, ${x}`;

/**
 * SHA-256 of a row's body encoding (leaf.ts), built by the engine from the
 * row's columns: the eight strings, the number of Details pairs, the pairs
 * sorted by key bytes (mapSort compares keys as bytes). `concat(…, '')`
 * turns the FixedString(32) into a String of all 32 bytes (a CAST would drop
 * trailing zero bytes). Tested against leaf.ts (test/verify-e2e.test.ts).
 */
export const BODY_HASH_SQL = `concat(SHA256(concat(${['Action', 'Principal', 'Source', 'Destination', 'Resource', 'Policy', 'TraceId', 'SpanId'].map(str).join(', ')},
  ${u32be('Details')},
  arrayStringConcat(arrayMap((k, v) -> concat(${str('k')}, ${str('v')}), mapKeys(mapSort(Details)), mapValues(mapSort(Details)))))), '')`;

/**
 * Rows of one origin with from <= LogIndex < to, each with its body's hash
 * computed by the store (BODY_HASH_SQL), in no particular order: the shape
 * of a leaves page (leavesPage), a row's header columns and 32 bytes
 * instead of its body columns. What verify reads by default: no body to
 * send, rebuild and hash here (README, "Checking it: trailhouse verify",
 * says what this trusts the store with).
 */
export function hashedRowsPage(s: VerifySource, t: AuditTables, origin: string, from: number, to: number): Promise<Buffer> {
  return rowsWith(BODY_HASH_SQL, s, t, origin, from, to);
}

/** Rows of one origin with from <= LogIndex < to, in no particular order, in RowBinary: the header columns, then `body`. */
function rowsWith(body: string, s: VerifySource, t: AuditTables, origin: string, from: number, to: number): Promise<Buffer> {
  return busyRetry(() => s.bytes(`SELECT ${HEADER}, ${body} FROM ${t.events} ${RANGE}`, range(origin, from, to), 'RowBinary'));
}

/**
 * Whether the store can hash bodies with `sql` (BODY_HASH_SQL, or the
 * otel_logs log's): false on a server without one of its functions
 * (UNKNOWN_FUNCTION; mapSort came with ClickHouse 23.x), or a table whose
 * columns they do not take.
 */
export async function storeHashesBodies(s: VerifySource, t: AuditTables, sql = BODY_HASH_SQL): Promise<boolean> {
  try {
    await s.bytes(`SELECT ${sql} FROM ${t.events} LIMIT 0`, {}, 'RowBinary');
    return true;
  } catch (err) {
    const c = errorCode(err);
    if (c === 46 || c === 43) return false;
    throw err;
  }
}

/**
 * Rows of one origin with from <= LogIndex < to, in no particular order (an
 * ORDER BY costs the engine more than reading the columns; the pages are
 * sorted in verify, body-rowbinary.ts): their header columns and body
 * columns, in RowBinary. The body encoding (what verify hashes) is built
 * from these bytes: `verify --hash-locally`.
 */
export function rowsPage(s: VerifySource, t: AuditTables, origin: string, from: number, to: number): Promise<Buffer> {
  return rowsWith('Action, Principal, Source, Destination, Resource, Policy, TraceId, SpanId, Details', s, t, origin, from, to);
}

/** Rows of one origin with from <= LogIndex < to, by index, every column (for a proof). */
export async function fullRowsPage(s: VerifySource, t: AuditTables, origin: string, from: number, to: number): Promise<(StoredRow & BodyFields)[]> {
  const rows = await select<RowJson>(s, `SELECT ${ROW_COLUMNS} FROM ${t.events} ${RANGE} ORDER BY LogIndex`, range(origin, from, to));
  return rows.map((r) => toRow(origin, r));
}

/** Rows without LogOrigin (at most `limit`), and how many there are. */
export async function orphanRows(s: VerifySource, t: AuditTables, limit: number): Promise<{ rows: StoredRow[]; count: number }> {
  const n = await select<{ n: string }>(s, `SELECT toString(count()) AS n FROM ${t.events} WHERE LogOrigin = ''`);
  const count = Number(n[0]?.n ?? 0);
  if (!count) return { rows: [], count };
  const rows = await select<RowJson>(s, `SELECT ${ROW_COLUMNS} FROM ${t.events} WHERE LogOrigin = '' ORDER BY Timestamp LIMIT {l:UInt32}`, { l: String(limit) });
  return { rows: rows.map((r) => toRow('', r)), count };
}

/** Leaf records of one origin with from <= LogIndex < to, in no particular order, in RowBinary (verify-rowbinary.ts); empty when the store has no leaves table. */
export async function leavesPage(s: VerifySource, t: AuditTables, origin: string, from: number, to: number): Promise<Buffer> {
  try {
    return await busyRetry(() => s.bytes(
      `SELECT ${HEADER}, unhex(LogBodyHash) FROM ${t.leaves} ${RANGE}`,
      range(origin, from, to),
      'RowBinary',
    ));
  } catch (err) {
    if (missing(err)) return Buffer.alloc(0);
    throw err;
  }
}

/**
 * The audit table's `retention.update` events (lib/retention/apply.ts) of
 * table `of` (default the audit table itself): the retention policies over
 * time, from the audit trail.
 */
export async function policyEvents(s: VerifySource, t: AuditTables, of = t.events): Promise<PolicyEvent[]> {
  const rows = await select<{ o: string; i: string; ns: string; policy: string }>(
    s,
    `SELECT LogOrigin AS o, toString(LogIndex) AS i, toString(toUnixTimestamp64Nano(Timestamp)) AS ns, Details['policy'] AS policy FROM ${t.events}
     WHERE Category = 'configuration' AND Action = 'retention.update' AND Details['resource'] = {r:String} ORDER BY Timestamp`,
    { r: `${s.database}.${of}` },
  );
  return rows.map((r) => ({ origin: r.o, index: Number(r.i), timeNs: BigInt(r.ns), policy: r.policy }));
}
