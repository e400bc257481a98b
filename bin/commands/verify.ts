/**
 * `trailhouse verify`: recomputes every audit row's leaf, rebuilds the
 * Merkle roots, and checks them against the signed checkpoints of the
 * witness files and of the store.
 *
 *   trailhouse verify [--endpoint URL] [--database otel] [--table audit_events|otel_logs] [--audit-table T] [--user U --password P]
 *                     [--checkpoints PATH|kafka://HOST:PORT/TOPIC]... [--pubkey VKEY|FILE]... [--key-file F]
 *                     [--origin O] [--from T --to T] [--json]
 *   trailhouse verify --proof FILE [--pubkey VKEY|FILE]...
 *
 * Exit 0 only when everything verifies; 1 when something was changed,
 * removed, slipped in or does not verify; 2 on a usage or connection error.
 * --from/--to restrict what is reported (rows by Timestamp), not what is
 * recomputed. Without --checkpoints, the default pipeline's witness file
 * (data/witness/audit-checkpoints.jsonl) is read when it exists.
 * `--table otel_logs` verifies the clickhouse exporter's log over otel_logs
 * (its `integrity`), told apart by its columns; its retention policies are
 * the audit table's (`--audit-table`) retention.update events, proven by
 * verifying the audit trail too. A witness shared by several
 * tables' logs holds checkpoints of all of them: those whose origin names
 * another table of the database (`…trailhouse/<db>.<other>…`) and that
 * this table's store does not know are left to that table's verify.
 */
import { existsSync, readFileSync } from 'node:fs';
import { AuditVerifier } from '../../lib/audit/verify.ts';
import { parseWitnessFile } from '../../lib/audit/verify-witness.ts';
import { feedRowBinary } from '../../lib/audit/verify-rowbinary.ts';
import { BodyHasher, type HashedPage } from '../../lib/audit/body-hasher.ts';
import { retentionOracle, settleExpired, type RetentionOracle } from '../../lib/audit/verify-retention.ts';
import type { CheckpointInput, VerifyOptions, VerifyReport } from '../../lib/audit/verify-types.ts';
import { parseTime } from './audit.ts';
import { flag, parseArgs } from './args.ts';
import { connFrom, stdio, type Io } from './oncall-http.ts';
import { checkProofFile } from './proof.ts';
import { DEFAULT_WITNESS_FILE, multi, resolveTrust } from './trust.ts';
import { renderJson, renderText } from './verify-report.ts';
import { auditTables, badIdentifiers, leavesPage, orphanRows, originRanges, PAGE, policyEvents, rowsPage, storeCheckpoints, type OriginRange } from './verify-store.ts';
import { feedLogsOrigin, isLogsTable, uncoveredRows } from './verify-logs.ts';


const USAGE =
  'usage: trailhouse verify [--endpoint URL] [--database otel] [--table audit_events|otel_logs] [--audit-table audit_events] [--user U --password P] [--checkpoints PATH]... [--pubkey VKEY|FILE]... [--origin O] [--from T --to T] [--json]\n' +
  '       trailhouse verify --proof FILE [--pubkey VKEY|FILE]...\n' +
  '       trailhouse verify --report DIR [--pubkey VKEY|FILE]...\n';

const ORPHANS_LISTED = 1000;
/** Pages being fetched at once; pages held at once (fetched or being fetched, and the one being checked). */
const FETCHES = 2;
const PAGES_HELD = 3;

/** A Kafka witness topic as witness-file text (kafkajs is loaded only for this). */
async function readKafkaTopic(url: string): Promise<string> {
  const [{ readKafkaWitness }, { silentLogger }] = await Promise.all([import('../../lib/audit/witness-kafka.ts'), import('../../core/telemetry/logger.ts')]);
  return readKafkaWitness(url, silentLogger);
}

export async function verifyCommand(argv: string[], io: Io = stdio): Promise<number> {
  const args = parseArgs(argv, ['json', 'help']);
  if (args.flags.has('help')) {
    io.out(USAGE);
    return 0;
  }
  const fail = (msg: string) => (io.err(`trailhouse verify: ${msg}\n`), 2);
  const problems: string[] = [];
  const opts: Omit<VerifyOptions, 'trustedKeys'> = {};
  for (const [name, key] of [['from', 'fromNs'], ['to', 'toNs']] as const) {
    const s = flag(args, name);
    if (s === undefined) continue;
    const t = parseTime(s);
    if (t === undefined) problems.push(`--${name}: expected a time like 2024-05-14T09:00:00Z, got ${JSON.stringify(s)}`);
    else opts[key] = t;
  }
  const origin = flag(args, 'origin');
  if (origin !== undefined) opts.origin = origin;
  if (args.positional.length) problems.push(`unexpected argument ${JSON.stringify(args.positional[0])}`);
  for (const f of ['checkpoints', 'pubkey', 'proof', 'report', 'origin', 'from', 'to', 'key-file', 'endpoint', 'database', 'table', 'audit-table']) if (args.flags.get(f) === true) problems.push(`--${f} needs a value`);
  if (problems.length) {
    io.err(problems.map((p) => `trailhouse verify: ${p}\n`).join('') + USAGE);
    return 2;
  }
  let trust: { keys: string[]; warning?: string };
  try {
    trust = resolveTrust(multi(argv, 'pubkey'), flag(args, 'key-file'));
  } catch (err) {
    return fail((err as Error).message);
  }
  if (trust.warning) io.err(`trailhouse verify: ${trust.warning}\n`);
  const reportDir = flag(args, 'report');
  if (reportDir !== undefined) return (await import('./verify-evidence.ts')).verifyReportDir(reportDir, trust.keys, io);
  const proof = flag(args, 'proof');
  if (proof !== undefined) return checkProofFile(proof, trust.keys, args.flags.has('json'), io);

  const witness: CheckpointInput[] = [];
  const bad: { where: string; reason: string }[] = [];
  const remarks: string[] = [];
  const paths = multi(argv, 'checkpoints');
  if (!paths.length && existsSync(DEFAULT_WITNESS_FILE)) {
    paths.push(DEFAULT_WITNESS_FILE);
    remarks.push(`witness: ${DEFAULT_WITNESS_FILE} (the default pipeline's; give --checkpoints for a copy kept elsewhere)`);
  }
  for (const p of paths) {
    let text: string;
    try {
      text = p.startsWith('kafka://') ? await readKafkaTopic(p) : readFileSync(p, 'utf8');
    } catch (err) {
      return fail(`--checkpoints ${p}: ${(err as Error).message}`);
    }
    const w = parseWitnessFile(text, p);
    witness.push(...w.checkpoints);
    bad.push(...w.bad);
    remarks.push(...w.remarks);
  }
  if (!paths.length) remarks.push('no witness file given (--checkpoints): the store checkpoints alone cannot catch a consistent rewrite of the store');

  const conn = connFrom(args);
  const badName = badIdentifiers(conn.database, flag(args, 'table'));
  if (badName) return fail(badName);
  const t = auditTables(flag(args, 'table'));
  const auditTable = flag(args, 'audit-table') ?? 'audit_events';
  const badAudit = badIdentifiers(conn.database, auditTable);
  if (badAudit) return fail(badAudit.replace('--table', '--audit-table'));
  const hasher = new BodyHasher();
  let logsTable = false;
  let verifier: AuditVerifier;
  let oracle: RetentionOracle;
  try {
    logsTable = await isLogsTable(conn, t.events);
    // Missing rows a retention policy explains are "expired", not deleted (verify-retention.ts).
    // The policies are audit events: an otel_logs log reads them from the audit table.
    const events = logsTable ? await policyEvents(conn, auditTables(auditTable), t.events).catch(() => []) : await policyEvents(conn, t);
    oracle = retentionOracle(events, t.events, Date.now(), logsTable ? 'logs' : 'audit');
    opts.expiredUnder = oracle.expiredUnder;
    const stored = await storeCheckpoints(conn, t);
    if (!stored) remarks.push(`${conn.database}.${t.checkpoints} does not exist`);
    const ranges = await originRanges(conn, t);
    const ours = ofThisTable(witness, stored ?? [], ranges, conn.database, t.events, remarks);
    verifier = new AuditVerifier([...ours, ...(stored ?? [])], { ...opts, trustedKeys: trust.keys }, { bad, remarks });
    const orphans = logsTable ? await uncoveredRows(conn, t, ORPHANS_LISTED) : await orphanRows(conn, t, ORPHANS_LISTED);
    verifier.addOrphans(orphans.rows);
    if (orphans.count > orphans.rows.length) remarks.push(`${orphans.count} rows without LogOrigin; the first ${orphans.rows.length} are listed`);
    const ends = new Map<string, number>();
    for (const r of ranges) if (r.origin) ends.set(r.origin, r.end);
    for (const o of verifier.checkpointOrigins()) ends.set(o, Math.max(ends.get(o) ?? 0, verifier.checkpointSize(o)));
    for (const [o, end] of [...ends].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (origin !== undefined && o !== origin) continue;
      const v = verifier.origin(o);
      if (logsTable) {
        await feedLogsOrigin(conn, t, v, o, end);
        continue;
      }
      // Pages are fetched back to back (two at a time: the query interface runs two queries at a
      // time, a page's rows and leaf records), then their rows ordered and their bodies hashed on
      // the worker, while the page before is fed; at most PAGES_HELD pages are held.
      const held: Promise<readonly [Buffer, HashedPage]>[] = [];
      let queued = 0;
      let fetching = 0;
      let failed = false;
      const more = (): void => {
        while (!failed && queued < end && fetching < FETCHES && held.length < PAGES_HELD) {
          const a = queued;
          const b = Math.min(end, a + PAGE);
          queued = b;
          fetching++;
          const fetched = Promise.all([rowsPage(conn, t, o, a, b), leavesPage(conn, t, o, a, b)]);
          fetched.then(() => (fetching--, more()), () => ((failed = true), fetching--));
          const p = fetched.then(async ([rows, recs]) => [recs, await hasher.hashPage(rows, a, b, true)] as const);
          p.catch(() => undefined); // awaited below; this only keeps a page fetched ahead from failing unobserved
          held.push(p);
        }
      };
      for (let a = 0; a < end; a += PAGE) {
        more();
        const [recs, rows] = await held.shift()!;
        more();
        // Pages arrive in any order: the worker ordered the rows, feedRowBinary orders the leaf records.
        feedRowBinary(v, rows.page, recs, Math.min(end, a + PAGE), rows);
      }
    }
  } catch (err) {
    return fail((err as Error).message);
  } finally {
    await hasher.close();
  }
  const report = verifier.report();
  // The policy events that explained missing rows of an otel_logs log are audit rows: believed
  // only as far as the audit trail's own verification proves them.
  const proofs = logsTable && oracle.used.size ? await auditProofs(argv, auditTable, io) : undefined;
  if (proofs === null) return fail(`the audit table ${auditTable} (where the retention policies are recorded) could not be verified`);
  settleExpired(report, oracle, proofs ?? report);
  const range = opts.fromNs !== undefined || opts.toNs !== undefined ? `; rows reported from ${flag(args, 'from') ?? 'the first'} to ${flag(args, 'to') ?? 'the last'}` : '';
  if (args.flags.has('json')) io.out(renderJson(report, { endpoint: conn.endpoint, database: conn.database, witnesses: paths }));
  else io.out(renderText(report, `Verifying ${logsTable ? `the log over ${t.events}` : 'the audit trail'} in ${conn.endpoint} (database ${conn.database}) against ${paths.length ? paths.join(', ') : 'no witness'} and ${conn.database}.${t.checkpoints}${range}`));
  return report.ok ? 0 : 1;
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

/**
 * The audit trail's report (origins and findings) from the same store,
 * witnesses and keys as this run: it says which retention.update events the
 * checkpoints prove. null when it could not be produced.
 */
async function auditProofs(argv: readonly string[], auditTable: string, io: Io): Promise<Pick<VerifyReport, 'origins' | 'findings'> | null> {
  const valued = new Set(['--table', '--audit-table', '--origin', '--from', '--to']);
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const name = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    if (valued.has(name)) {
      if (!a.includes('=')) i++;
      continue;
    }
    if (a !== '--json') rest.push(a);
  }
  const out: string[] = [];
  const code = await verifyCommand([...rest, '--table', auditTable, '--json'], { out: (x) => void out.push(x), err: (x) => io.err(x) });
  if (code === 2) return null;
  try {
    return JSON.parse(out.join('')) as VerifyReport;
  } catch {
    return null;
  }
}
