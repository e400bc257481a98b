/**
 * verify's walk over a store: the checkpoints of the store and of the
 * witnesses, the retention policies, then every origin's rows and leaf
 * records page by page, fed to AuditVerifier (verify.ts). One code path for
 * `trailhouse verify` (over ClickHouse's HTTP interface) and for the
 * pipeline's self-check (self-verify.ts, over its own store in-process):
 * only the VerifySource differs.
 *
 * `--table otel_logs` verifies the clickhouse exporter's log over otel_logs,
 * told apart by its columns; its retention policies are the audit table's
 * retention.update events, proven by verifying the audit trail too.
 */
import { AuditVerifier } from './verify.ts';
import { BodyHasher, type HashedPage } from './body-hasher.ts';
import { feedRowBinary, leafPrefix, STORE_HASHED } from './verify-rowbinary.ts';
import { retentionOracle, settleExpired } from './verify-retention.ts';
import type { CheckpointInput, VerifyOptions, VerifyReport } from './verify-types.ts';
import { auditTables, BODY_HASH_SQL, hashedRowsPage, leavesPage, orphanRows, originRanges, PAGE, policyEvents, rowsPage, storeCheckpoints, storeHashesBodies, type OriginRange, type VerifySource } from './verify-store.ts';
import { feedLogsOrigin, isLogsTable, LOGS_BODY_HASH_SQL, uncoveredRows } from './verify-logs-store.ts';

const ORPHANS_LISTED = 1000;
/** Pages held at once (fetched or being fetched, and the one being checked). */
const PAGES_HELD = 3;

export interface VerifyRunInput {
  source: VerifySource;
  /** The table whose log is verified. Default audit_events. */
  table?: string;
  /** Where the retention policies are recorded (an otel_logs log's). Default audit_events. */
  auditTable?: string;
  /** The witnesses' checkpoints (verify-witness.ts parseWitnessFile), their bad lines and remarks. */
  witness: readonly CheckpointInput[];
  bad?: readonly { where: string; reason: string }[];
  remarks?: readonly string[];
  trustedKeys: readonly string[];
  /** Report only rows with fromNs <= Timestamp < toNs; everything is still recomputed. */
  fromNs?: bigint;
  toNs?: bigint;
  origin?: string;
  /**
   * Read each row's body columns and hash them here (a worker thread), not
   * the hash the store computes from them (verify-store.ts hashedRowsPage):
   * for an auditor who does not trust the store's server to run SHA-256
   * honestly. Same verdicts, more bytes and CPU.
   */
  hashLocally?: boolean;
  /** Pages fetched at once. Default 2 (the query interface runs two queries at a time). */
  fetches?: number;
  /** Awaited between pages: a background run hands the store and the event loop back there. */
  pause?: () => Promise<void>;
}

export interface VerifyRun {
  report: VerifyReport;
  /** The table verified was an otel_logs log. */
  logsTable: boolean;
}

/** Verifies the store's log; throws on a store error (the verdict is then unknown, not failed). */
export async function runVerify(i: VerifyRunInput): Promise<VerifyRun> {
  const s = i.source;
  const t = auditTables(i.table);
  const auditTable = i.auditTable ?? 'audit_events';
  const bad = [...(i.bad ?? [])];
  const remarks = [...(i.remarks ?? [])];
  const opts: VerifyOptions = { trustedKeys: i.trustedKeys };
  if (i.fromNs !== undefined) opts.fromNs = i.fromNs;
  if (i.toNs !== undefined) opts.toNs = i.toNs;
  if (i.origin !== undefined) opts.origin = i.origin;
  const hasher = new BodyHasher();
  let verifier: AuditVerifier;
  let local = i.hashLocally === true;
  let logsTable = false;
  let oracle;
  try {
    logsTable = await isLogsTable(s, t.events);
    // Missing rows a retention policy explains are "expired", not deleted (verify-retention.ts).
    // The policies are audit events: an otel_logs log reads them from the audit table.
    const events = logsTable ? await policyEvents(s, auditTables(auditTable), t.events).catch(() => []) : await policyEvents(s, t);
    oracle = retentionOracle(events, t.events, Date.now(), logsTable ? 'logs' : 'audit');
    opts.expiredUnder = oracle.expiredUnder;
    const stored = await storeCheckpoints(s, t);
    if (!stored) remarks.push(`${s.database}.${t.checkpoints} does not exist`);
    const ranges = await originRanges(s, t);
    const ours = ofThisTable(i.witness, stored ?? [], ranges, s.database, t.events, remarks);
    if (!local && !(await storeHashesBodies(s, t, logsTable ? LOGS_BODY_HASH_SQL : BODY_HASH_SQL))) {
      local = true;
      remarks.push(`the store cannot hash bodies (a server older than ClickHouse 23.x, or other columns): they were read and hashed here`);
    }
    const orphans = logsTable ? await uncoveredRows(s, t, ORPHANS_LISTED) : await orphanRows(s, t, ORPHANS_LISTED);
    if (orphans.count > orphans.rows.length) remarks.push(`${orphans.count} rows without LogOrigin; the first ${orphans.rows.length} are listed`);
    // The verifier takes the remarks as they are now.
    verifier = new AuditVerifier([...ours, ...(stored ?? [])], opts, { bad, remarks });
    verifier.addOrphans(orphans.rows);
    const ends = new Map<string, number>();
    for (const r of ranges) if (r.origin) ends.set(r.origin, r.end);
    for (const o of verifier.checkpointOrigins()) ends.set(o, Math.max(ends.get(o) ?? 0, verifier.checkpointSize(o)));
    for (const [o, end] of [...ends].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (i.origin !== undefined && o !== i.origin) continue;
      const v = verifier.origin(o);
      if (logsTable) await feedLogsOrigin(s, t, v, o, end, local, i.pause);
      else await feedAuditOrigin(s, t, v, o, end, local ? hasher : undefined, i.fetches ?? 2, i.pause);
    }
  } finally {
    await hasher.close();
  }
  const report = verifier.report();
  // The policy events that explained missing rows of an otel_logs log are audit rows: believed
  // only as far as the audit trail's own verification proves them.
  let proofs: Pick<VerifyReport, 'origins' | 'findings'> | undefined;
  if (logsTable && oracle.used.size) {
    try {
      proofs = (await runVerify({ ...i, table: auditTable, origin: undefined, fromNs: undefined, toNs: undefined })).report;
    } catch (err) {
      throw new Error(`the audit table ${auditTable} (where the retention policies are recorded) could not be verified: ${(err as Error).message}`, { cause: err });
    }
  }
  settleExpired(report, oracle, proofs ?? report);
  return { report, logsTable };
}

/**
 * One audit origin's pages: fetched back to back (`fetches` at a time: a
 * page's rows and leaf records), while the page before is fed; at most
 * PAGES_HELD pages are held. The rows come with the hash of their bodies
 * the store computed or, given a `hasher`, with their body columns, whose
 * rows the worker orders and hashes.
 */
async function feedAuditOrigin(s: VerifySource, t: ReturnType<typeof auditTables>, v: ReturnType<AuditVerifier['origin']>, o: string, end: number, hasher: BodyHasher | undefined, fetches: number, pause?: () => Promise<void>): Promise<void> {
  const held: Promise<readonly [Buffer, HashedPage | Buffer]>[] = [];
  // The worker makes the rows' leaves too: the main thread only compares rows with records and grows the tree.
  const prefix = leafPrefix(o);
  let queued = 0;
  let fetching = 0;
  let failed = false;
  const more = (): void => {
    while (!failed && queued < end && fetching < fetches && held.length < PAGES_HELD) {
      const a = queued;
      const b = Math.min(end, a + PAGE);
      queued = b;
      fetching++;
      const fetched = Promise.all([hasher ? rowsPage(s, t, o, a, b) : hashedRowsPage(s, t, o, a, b), leavesPage(s, t, o, a, b)]);
      fetched.then(() => (fetching--, more()), () => ((failed = true), fetching--));
      const p = fetched.then(async ([rows, recs]) => [recs, hasher ? await hasher.hashPage(rows, a, b, true, prefix) : rows] as const);
      p.catch(() => undefined); // awaited below; this only keeps a page fetched ahead from failing unobserved
      held.push(p);
    }
  };
  for (let a = 0; a < end; a += PAGE) {
    more();
    const [recs, rows] = await held.shift()!;
    if (pause) await pause();
    more();
    // Pages arrive in any order: the worker ordered the rows (or feedRowBinary does), feedRowBinary orders the leaf records.
    if (Buffer.isBuffer(rows)) feedRowBinary(v, rows, recs, Math.min(end, a + PAGE), STORE_HASHED);
    else feedRowBinary(v, rows.page, recs, Math.min(end, a + PAGE), rows);
  }
}

/** The origin a checkpoint copy is of: its note's first line (what its signature covers), else what it claims. */
function originOf(c: CheckpointInput): string {
  return c.note.slice(0, Math.max(0, c.note.indexOf('\n'))) || c.claimed?.origin || '';
}

/**
 * The witness checkpoints of this table's logs: all but those of an origin
 * this table's store does not know and whose name says it is another
 * table's log (`…trailhouse/<db>.<other>…`, the default origins). An origin
 * of neither kind is kept: a log whose rows and store checkpoints were all
 * removed must still be missed.
 */
function ofThisTable(witness: readonly CheckpointInput[], stored: readonly CheckpointInput[], ranges: readonly OriginRange[], database: string, table: string, remarks: string[]): CheckpointInput[] {
  const known = new Set<string>([...stored.map(originOf), ...ranges.map((r) => r.origin)]);
  const named = new RegExp(`(?:^|/)trailhouse/${database.replace(/[^A-Za-z0-9_]/g, '')}\\.([A-Za-z0-9_]+)(?:/|$)`);
  const left = new Map<string, number>();
  const out: CheckpointInput[] = [];
  for (const c of witness) {
    const o = originOf(c);
    const other = known.has(o) ? undefined : named.exec(o)?.[1];
    if (other !== undefined && other !== table) left.set(o, (left.get(o) ?? 0) + 1);
    else out.push(c);
  }
  for (const [o, n] of left) remarks.push(`${o}: ${n} witnessed checkpoint(s) of another table's log, not checked here`);
  return out;
}
