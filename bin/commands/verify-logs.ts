/**
 * What `trailhouse verify --table otel_logs` reads: the rows and leaf
 * records of the clickhouse exporter's log over otel_logs (lib/audit/
 * otel-logs-leaf.ts), page by page, fed to the same verifier as the audit
 * trail's. Rows of services the log does not cover carry no LogOrigin and
 * are not its business, except where they look like a covered service's
 * row slipped in around the log (uncoveredRows).
 */
import type { OriginVerifier } from '../../lib/audit/verify-origin.ts';
import { feedRowBinary } from '../../lib/audit/verify-rowbinary.ts';
import { OTEL_LOGS_BODY_SQL, OTEL_LOGS_HEADER_SQL, otelLogsPageOrder, parseOtelLogsRows } from '../../lib/audit/otel-logs-verify.ts';
import type { StoredRow } from '../../lib/audit/verify-types.ts';
import { select, type Conn } from './oncall-http.ts';
import { busyRetry, PAGE, selectBytes, type AuditTables } from './verify-store.ts';

/** Whether `table` is an otel_logs table with a log's columns (the audit table has no SeverityText). */
export async function isLogsTable(c: Conn, table: string): Promise<boolean> {
  try {
    const cols = await select<{ name: string }>(c, `DESCRIBE TABLE ${table}`);
    const names = new Set(cols.map((r) => r.name));
    return names.has('SeverityText') && names.has('LogOrigin');
  } catch {
    return false; // no such table: the audit path says so
  }
}

const RANGE = 'WHERE LogOrigin = {o:String} AND LogIndex >= {a:UInt64} AND LogIndex < {b:UInt64}';

/** Rows of one origin with from <= LogIndex < to, in no particular order: header and body columns in RowBinary (otel-logs-verify.ts). */
export function logsRowsPage(c: Conn, t: AuditTables, origin: string, from: number, to: number): Promise<Buffer> {
  const params = { o: origin, a: String(from), b: String(to) };
  return busyRetry(() => selectBytes(c, `SELECT LogIndex, ${OTEL_LOGS_HEADER_SQL}, ${OTEL_LOGS_BODY_SQL} FROM ${t.events} ${RANGE}`, params, 'RowBinary'));
}

/** Leaf records of one origin with from <= LogIndex < to, in the audit leaves page's shape (verify-rowbinary.ts parseLeavesPage). */
export function logsLeavesPage(c: Conn, t: AuditTables, origin: string, from: number, to: number): Promise<Buffer> {
  const params = { o: origin, a: String(from), b: String(to) };
  return busyRetry(() => selectBytes(c, `SELECT LogIndex, ${OTEL_LOGS_HEADER_SQL}, unhex(LogBodyHash) FROM ${t.leaves} ${RANGE}`, params, 'RowBinary'));
}

/**
 * Feeds one origin's rows and leaf records to `v`, a page of indexes at a
 * time, up to `end`; the next page is fetched while one is checked.
 */
export async function feedLogsOrigin(c: Conn, t: AuditTables, v: OriginVerifier, origin: string, end: number): Promise<void> {
  const fetchPage = (a: number) => {
    const b = Math.min(end, a + PAGE);
    return Promise.all([logsRowsPage(c, t, origin, a, b), logsLeavesPage(c, t, origin, a, b)]);
  };
  let next = end > 0 ? fetchPage(0) : undefined;
  for (let a = 0; a < end; a += PAGE) {
    const [rows, recs] = await next!;
    const b = Math.min(end, a + PAGE);
    next = b < end ? fetchPage(b) : undefined;
    next?.catch(() => undefined); // awaited next turn; this only keeps it from failing unobserved meanwhile
    // The rows' places and body hashes, then the shared fast path (anything that disagrees is parsed as objects).
    feedRowBinary(v, rows, recs, b, otelLogsPageOrder(rows, a, b), parseOtelLogsRows);
  }
}

/**
 * Rows without LogOrigin of a service the log covers, no older than that
 * service's first leaf: written around the log (or slipped in), since the
 * exporter gives every row of a covered service its place. At most `limit`,
 * and how many there are.
 */
export async function uncoveredRows(c: Conn, t: AuditTables, limit: number): Promise<{ rows: StoredRow[]; count: number }> {
  const since = `(SELECT ServiceName AS s, min(Timestamp) AS t FROM ${t.leaves} GROUP BY ServiceName)`;
  const where = `FROM ${t.events} AS r INNER JOIN ${since} AS f ON r.ServiceName = f.s WHERE r.LogOrigin = '' AND r.Timestamp >= f.t`;
  const n = await select<{ n: string }>(c, `SELECT toString(count()) AS n ${where}`);
  const count = Number(n[0]?.n ?? 0);
  if (!count) return { rows: [], count };
  const rows = await select<{ ns: string; svc: string; sev: string; body: string }>(
    c,
    `SELECT toString(toUnixTimestamp64Nano(r.Timestamp)) AS ns, r.ServiceName AS svc, r.SeverityText AS sev, substring(r.Body, 1, 80) AS body ${where} ORDER BY r.Timestamp LIMIT {l:UInt32}`,
    { l: String(limit) },
  );
  // As the audit table's rows without LogOrigin are reported (AuditVerifier.addOrphans): what the row is, in a few words.
  return { rows: rows.map((r) => ({ origin: '', index: 0, timeNs: BigInt(r.ns), category: r.svc, action: r.sev, outcome: '', principal: JSON.stringify(r.body), service: r.svc })), count };
}
