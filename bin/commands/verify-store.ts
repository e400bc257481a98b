/**
 * What `trailhouse verify` and `trailhouse proof` read from the store, over
 * ClickHouse's HTTP interface (oncall-http.ts): checkpoints, the origins and
 * their index ranges, then rows and leaf records page by page — one LogIndex
 * range per request, so no single answer is huge and the minmax index on
 * LogIndex skips the rest.
 */
import type { BodyFields } from '../../lib/audit/leaf.ts';
import type { PolicyEvent } from '../../lib/audit/verify-retention.ts';
import type { CheckpointInput, StoredRow } from '../../lib/audit/verify-types.ts';
import http from 'node:http';
import https from 'node:https';
import { QueryError, select, selectOptional, type Conn } from './oncall-http.ts';

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

/** The audit table and, named after it (lib/audit/log-schema.ts), the log's leaves and checkpoints tables. */
export interface AuditTables { events: string; leaves: string; checkpoints: string }

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Why `--database` / `--table` cannot name a table (they go into the SQL as identifiers), or undefined. */
export function badIdentifiers(database: string, table: string | undefined): string | undefined {
  for (const [flag, v] of [['--database', database], ['--table', table]] as const) {
    if (v !== undefined && !IDENT.test(v)) return `${flag}: expected a name (letters, digits, _), got ${JSON.stringify(v)}`;
  }
  return undefined;
}

export function auditTables(table = 'audit_events'): AuditTables {
  return { events: table, leaves: `${table}_log_leaves`, checkpoints: `${table}_checkpoints` };
}

/** Indexes per request. */
export const PAGE = 100_000;

/**
 * A page read, again after a second while the query interface is busy
 * (503, code 202 TOO_MANY_SIMULTANEOUS_QUERIES: other users' queries and
 * verify's own pages share its slots), up to a minute.
 */
export async function busyRetry(read: () => Promise<Buffer>): Promise<Buffer> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      if (!(err instanceof QueryError && err.code === 202) || attempt >= 60) throw err;
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

interface CheckpointRow { Origin: string; Size: string; Root: string; KeyName: string; KeyId: string; Note: string }

/** The checkpoints table as verify inputs; null when the store has no such table. */
export async function storeCheckpoints(c: Conn, t: AuditTables): Promise<CheckpointInput[] | null> {
  const rows = await selectOptional<CheckpointRow>(c, `SELECT Origin, toString(Size) AS Size, RootHash AS Root, KeyName, KeyId, Note FROM ${t.checkpoints} ORDER BY Origin, Size, Time`);
  if (!rows) return null;
  const where = `${c.database}.${t.checkpoints}`;
  return rows.map((r) => ({
    source: 'store' as const,
    where,
    note: r.Note,
    claimed: { origin: r.Origin, size: Number(r.Size), root: Buffer.from(r.Root, 'hex'), key: `${r.KeyName}+${r.KeyId}` },
  }));
}

export interface OriginRange { origin: string; rows: number; end: number }

/** Per origin: how many rows, and one past the highest index in rows or leaf records. */
export async function originRanges(c: Conn, t: AuditTables): Promise<OriginRange[]> {
  const rows = await select<{ o: string; n: string; hi: string }>(c, `SELECT LogOrigin AS o, toString(count()) AS n, toString(max(LogIndex)) AS hi FROM ${t.events} GROUP BY LogOrigin`);
  const recs = (await selectOptional<{ o: string; hi: string }>(c, `SELECT LogOrigin AS o, toString(max(LogIndex)) AS hi FROM ${t.leaves} GROUP BY LogOrigin`)) ?? [];
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

/**
 * Rows of one origin with from <= LogIndex < to, in no particular order (an
 * ORDER BY costs the engine more than reading the columns; the pages are
 * sorted in verify, lib/audit/body-rowbinary.ts): their header columns and
 * body columns, in RowBinary (which writes a LowCardinality(String) as a
 * String). The body encoding (what verify hashes) is built from these bytes.
 */
export async function rowsPage(c: Conn, t: AuditTables, origin: string, from: number, to: number): Promise<Buffer> {
  return busyRetry(() => selectBytes(
    c,
    `SELECT LogIndex, toUnixTimestamp64Nano(Timestamp), CAST(Category AS String), CAST(Outcome AS String), CAST(ServiceName AS String),
       Action, Principal, Source, Destination, Resource, Policy, TraceId, SpanId, Details
     FROM ${t.events} WHERE LogOrigin = {o:String} AND LogIndex >= {a:UInt64} AND LogIndex < {b:UInt64}`,
    { o: origin, a: String(from), b: String(to) },
    'RowBinary',
  ));
}

/** Rows of one origin with from <= LogIndex < to, by index, every column (for a proof). */
export async function fullRowsPage(c: Conn, t: AuditTables, origin: string, from: number, to: number): Promise<(StoredRow & BodyFields)[]> {
  const rows = await select<RowJson>(
    c,
    `SELECT ${ROW_COLUMNS} FROM ${t.events} WHERE LogOrigin = {o:String} AND LogIndex >= {a:UInt64} AND LogIndex < {b:UInt64} ORDER BY LogIndex`,
    { o: origin, a: String(from), b: String(to) },
  );
  return rows.map((r) => toRow(origin, r));
}

/** Rows without LogOrigin (at most `limit`), and how many there are. */
export async function orphanRows(c: Conn, t: AuditTables, limit: number): Promise<{ rows: StoredRow[]; count: number }> {
  const n = await select<{ n: string }>(c, `SELECT toString(count()) AS n FROM ${t.events} WHERE LogOrigin = ''`);
  const count = Number(n[0]?.n ?? 0);
  if (!count) return { rows: [], count };
  const rows = await select<RowJson>(c, `SELECT ${ROW_COLUMNS} FROM ${t.events} WHERE LogOrigin = '' ORDER BY Timestamp LIMIT {l:UInt32}`, { l: String(limit) });
  return { rows: rows.map((r) => toRow('', r)), count };
}

/** Leaf records of one origin with from <= LogIndex < to, in no particular order, in RowBinary (verify-rowbinary.ts); empty when the store has no leaves table. */
export async function leavesPage(c: Conn, t: AuditTables, origin: string, from: number, to: number): Promise<Buffer> {
  try {
    return await busyRetry(() => selectBytes(
      c,
      `SELECT LogIndex, toUnixTimestamp64Nano(Timestamp), CAST(Category AS String), CAST(Outcome AS String), CAST(ServiceName AS String), unhex(LogBodyHash)
       FROM ${t.leaves} WHERE LogOrigin = {o:String} AND LogIndex >= {a:UInt64} AND LogIndex < {b:UInt64}`,
      { o: origin, a: String(from), b: String(to) },
      'RowBinary',
    ));
  } catch (err) {
    if (err instanceof QueryError && (err.code === 60 || err.code === 81)) return Buffer.alloc(0);
    throw err;
  }
}

/**
 * The audit table's `retention.update` events (lib/retention/apply.ts) of
 * table `of` (default the audit table itself): the retention policies over
 * time, from the audit trail.
 */
export async function policyEvents(c: Conn, t: AuditTables, of = t.events): Promise<PolicyEvent[]> {
  const rows = await select<{ o: string; i: string; ns: string; policy: string }>(
    c,
    `SELECT LogOrigin AS o, toString(LogIndex) AS i, toString(toUnixTimestamp64Nano(Timestamp)) AS ns, Details['policy'] AS policy FROM ${t.events}
     WHERE Category = 'configuration' AND Action = 'retention.update' AND Details['resource'] = {r:String} ORDER BY Timestamp`,
    { r: `${c.database}.${of}` },
  );
  return rows.map((r) => ({ origin: r.o, index: Number(r.i), timeNs: BigInt(r.ns), policy: r.policy }));
}
