/**
 * `trailhouse verify`: recomputes every audit row's leaf, rebuilds the
 * Merkle roots, and checks them against the signed checkpoints of the
 * witness files and of the store.
 *
 *   trailhouse verify [--endpoint URL] [--database otel] [--table audit_events] [--user U --password P]
 *                     [--checkpoints PATH|kafka://HOST:PORT/TOPIC]... [--pubkey VKEY|FILE]... [--key-file F]
 *                     [--origin O] [--from T --to T] [--json]
 *   trailhouse verify --proof FILE [--pubkey VKEY|FILE]...
 *
 * Exit 0 only when everything verifies; 1 when something was changed,
 * removed, slipped in or does not verify; 2 on a usage or connection error.
 * --from/--to restrict what is reported (rows by Timestamp), not what is
 * recomputed. Without --checkpoints, the default pipeline's witness file
 * (data/witness/audit-checkpoints.jsonl) is read when it exists.
 */
import { existsSync, readFileSync } from 'node:fs';
import { AuditVerifier } from '../../lib/audit/verify.ts';
import { parseWitnessFile } from '../../lib/audit/verify-witness.ts';
import { feedRowBinary } from '../../lib/audit/verify-rowbinary.ts';
import { BodyHasher, type HashedPage } from '../../lib/audit/body-hasher.ts';
import { retentionOracle, settleExpired, type RetentionOracle } from '../../lib/audit/verify-retention.ts';
import type { CheckpointInput, VerifyOptions } from '../../lib/audit/verify-types.ts';
import { parseTime } from './audit.ts';
import { flag, parseArgs } from './args.ts';
import { connFrom, stdio, type Io } from './oncall-http.ts';
import { checkProofFile } from './proof.ts';
import { DEFAULT_WITNESS_FILE, multi, resolveTrust } from './trust.ts';
import { renderJson, renderText } from './verify-report.ts';
import { auditTables, badIdentifiers, leavesPage, orphanRows, originRanges, PAGE, policyEvents, rowsPage, storeCheckpoints } from './verify-store.ts';


const USAGE =
  'usage: trailhouse verify [--endpoint URL] [--database otel] [--table audit_events] [--user U --password P] [--checkpoints PATH]... [--pubkey VKEY|FILE]... [--origin O] [--from T --to T] [--json]\n' +
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
  for (const f of ['checkpoints', 'pubkey', 'proof', 'report', 'origin', 'from', 'to', 'key-file', 'endpoint', 'database', 'table']) if (args.flags.get(f) === true) problems.push(`--${f} needs a value`);
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
  const hasher = new BodyHasher();
  let verifier: AuditVerifier;
  let oracle: RetentionOracle;
  try {
    // Missing rows a retention policy explains are "expired", not deleted (verify-retention.ts).
    oracle = retentionOracle(await policyEvents(conn, t), t.events, Date.now());
    opts.expiredUnder = oracle.expiredUnder;
    const stored = await storeCheckpoints(conn, t);
    if (!stored) remarks.push(`${conn.database}.${t.checkpoints} does not exist`);
    verifier = new AuditVerifier([...witness, ...(stored ?? [])], { ...opts, trustedKeys: trust.keys }, { bad, remarks });
    const ranges = await originRanges(conn, t);
    const orphans = await orphanRows(conn, t, ORPHANS_LISTED);
    verifier.addOrphans(orphans.rows);
    if (orphans.count > orphans.rows.length) remarks.push(`${orphans.count} rows without LogOrigin; the first ${orphans.rows.length} are listed`);
    const ends = new Map<string, number>();
    for (const r of ranges) if (r.origin) ends.set(r.origin, r.end);
    for (const o of verifier.checkpointOrigins()) ends.set(o, Math.max(ends.get(o) ?? 0, verifier.checkpointSize(o)));
    for (const [o, end] of [...ends].sort(([a], [b]) => (a < b ? -1 : 1))) {
      if (origin !== undefined && o !== origin) continue;
      const v = verifier.origin(o);
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
  settleExpired(report, oracle);
  const range = opts.fromNs !== undefined || opts.toNs !== undefined ? `; rows reported from ${flag(args, 'from') ?? 'the first'} to ${flag(args, 'to') ?? 'the last'}` : '';
  if (args.flags.has('json')) io.out(renderJson(report, { endpoint: conn.endpoint, database: conn.database, witnesses: paths }));
  else io.out(renderText(report, `Verifying the audit trail in ${conn.endpoint} (database ${conn.database}) against ${paths.length ? paths.join(', ') : 'no witness'} and ${conn.database}.${t.checkpoints}${range}`));
  return report.ok ? 0 : 1;
}
