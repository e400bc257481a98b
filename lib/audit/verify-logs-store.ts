/**
 * What verify reads of the clickhouse exporter's log over otel_logs
 * (otel-logs-leaf.ts): the rows and leaf records, page by page, fed to the
 * same verifier as the audit trail's. Rows of services the log does not
 * cover carry no LogOrigin and are not its business, except where they look
 * like a covered service's row slipped in around the log (uncoveredRows).
 */
import type { OriginVerifier } from './verify-origin.ts';
import { feedRowBinary, STORE_HASHED } from './verify-rowbinary.ts';
import { OTEL_LOGS_BODY_SQL, OTEL_LOGS_HEADER_SQL, otelLogsPageOrder, parseOtelLogsRows } from './otel-logs-verify.ts';
import type { StoredRow } from './verify-types.ts';
import { busyRetry, PAGE, select, type AuditTables, type VerifySource } from './verify-store.ts';

/** Whether `table` is an otel_logs table with a log's columns (the audit table has no SeverityText). */
export async function isLogsTable(s: VerifySource, table: string): Promise<boolean> {
  try {
    const cols = await select<{ name: string }>(s, `DESCRIBE TABLE ${table}`);
    const names = new Set(cols.map((r) => r.name));
    return names.has('SeverityText') && names.has('LogOrigin');
  } catch {
    return false; // no such table: the audit path says so
  }
}

const RANGE = 'WHERE LogOrigin = {o:String} AND LogIndex >= {a:UInt64} AND LogIndex < {b:UInt64}';

/** Rows of one origin with from <= LogIndex < to, in no particular order, in RowBinary: the header columns, then `body`. */
function rowsWith(body: string, s: VerifySource, t: AuditTables, origin: string, from: number, to: number): Promise<Buffer> {
  const params = { o: origin, a: String(from), b: String(to) };
  return busyRetry(() => s.bytes(`SELECT LogIndex, ${OTEL_LOGS_HEADER_SQL}, ${body} FROM ${t.events} ${RANGE}`, params, 'RowBinary'));
}

/** Rows of one origin with from <= LogIndex < to, in no particular order: header and body columns in RowBinary (otel-logs-verify.ts). */
export function logsRowsPage(s: VerifySource, t: AuditTables, origin: string, from: number, to: number): Promise<Buffer> {
  return rowsWith(OTEL_LOGS_BODY_SQL, s, t, origin, from, to);
}

/**
 * SHA-256 of an otel_logs row's body (otel-logs-leaf.ts: the row's
 * RowBinary of the body columns), computed by the store: formatRow writes
 * exactly those bytes. As a String of all 32 bytes (verify-store.ts BODY_HASH_SQL).
 */
export const LOGS_BODY_HASH_SQL = `concat(SHA256(formatRow('RowBinary', ${OTEL_LOGS_BODY_SQL})), '')`;

/** Rows of one origin with from <= LogIndex < to, each with its body's hash computed by the store: a leaves page's shape (verify-store.ts hashedRowsPage). */
export function logsHashedRowsPage(s: VerifySource, t: AuditTables, origin: string, from: number, to: number): Promise<Buffer> {
  return rowsWith(LOGS_BODY_HASH_SQL, s, t, origin, from, to);
}

/** Leaf records of one origin with from <= LogIndex < to, in the audit leaves page's shape (verify-rowbinary.ts parseLeavesPage). */
export function logsLeavesPage(s: VerifySource, t: AuditTables, origin: string, from: number, to: number): Promise<Buffer> {
  const params = { o: origin, a: String(from), b: String(to) };
  return busyRetry(() => s.bytes(`SELECT LogIndex, ${OTEL_LOGS_HEADER_SQL}, unhex(LogBodyHash) FROM ${t.leaves} ${RANGE}`, params, 'RowBinary'));
}

/**
 * Feeds one origin's rows and leaf records to `v`, a page of indexes at a
 * time, up to `end`; the next page is fetched while one is checked.
 * `pause`: awaited between pages (the pipeline's self-check yields there).
 * The rows come with their body hashes computed by the store or, `local`,
 * with their body columns, hashed here.
 */
export async function feedLogsOrigin(s: VerifySource, t: AuditTables, v: OriginVerifier, origin: string, end: number, local: boolean, pause?: () => Promise<void>): Promise<void> {
  const fetchPage = (a: number) => {
    const b = Math.min(end, a + PAGE);
    return Promise.all([(local ? logsRowsPage : logsHashedRowsPage)(s, t, origin, a, b), logsLeavesPage(s, t, origin, a, b)]);
  };
  let next = end > 0 ? fetchPage(0) : undefined;
  for (let a = 0; a < end; a += PAGE) {
    const [rows, recs] = await next!;
    const b = Math.min(end, a + PAGE);
    if (pause) await pause();
    next = b < end ? fetchPage(b) : undefined;
    next?.catch(() => undefined); // awaited next turn; this only keeps it from failing unobserved meanwhile
    // The rows' places and body hashes, then the shared fast path (anything that disagrees is parsed as objects).
    if (local) feedRowBinary(v, rows, recs, b, otelLogsPageOrder(rows, a, b), parseOtelLogsRows);
    else feedRowBinary(v, rows, recs, b, STORE_HASHED);
  }
}

/**
 * Rows without LogOrigin of a service the log covers, no older than that
 * service's first leaf: written around the log (or slipped in), since the
 * exporter gives every row of a covered service its place. At most `limit`,
 * and how many there are.
 */
export async function uncoveredRows(s: VerifySource, t: AuditTables, limit: number): Promise<{ rows: StoredRow[]; count: number }> {
  const since = `(SELECT ServiceName AS s, min(Timestamp) AS t FROM ${t.leaves} GROUP BY ServiceName)`;
  const where = `FROM ${t.events} AS r INNER JOIN ${since} AS f ON r.ServiceName = f.s WHERE r.LogOrigin = '' AND r.Timestamp >= f.t`;
  const n = await select<{ n: string }>(s, `SELECT toString(count()) AS n ${where}`);
  const count = Number(n[0]?.n ?? 0);
  if (!count) return { rows: [], count };
  const rows = await select<{ ns: string; svc: string; sev: string; body: string }>(
    s,
    `SELECT toString(toUnixTimestamp64Nano(r.Timestamp)) AS ns, r.ServiceName AS svc, r.SeverityText AS sev, substring(r.Body, 1, 80) AS body ${where} ORDER BY r.Timestamp LIMIT {l:UInt32}`,
    { l: String(limit) },
  );
  // As the audit table's rows without LogOrigin are reported (AuditVerifier.addOrphans): what the row is, in a few words.
  return { rows: rows.map((r) => ({ origin: '', index: 0, timeNs: BigInt(r.ns), category: r.svc, action: r.sev, outcome: '', principal: JSON.stringify(r.body), service: r.svc })), count };
}
