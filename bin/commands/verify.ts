/**
 * `trailhouse verify`: recomputes every audit row's leaf, rebuilds the
 * Merkle roots, and checks them against the signed checkpoints of the
 * witness files and of the store.
 *
 *   trailhouse verify [--endpoint URL] [--database otel] [--table audit_events|otel_logs] [--audit-table T] [--user U --password P]
 *                     [--checkpoints PATH|kafka://HOST:PORT/TOPIC]... [--pubkey VKEY|FILE]... [--key-file F]
 *                     [--origin O] [--from T --to T] [--hash-locally] [--json]
 *   trailhouse verify --proof FILE [--pubkey VKEY|FILE]...
 *
 * Exit 0 only when everything verifies; 1 when something was changed,
 * removed, slipped in or does not verify; 2 on a usage or connection error.
 * --from/--to restrict what is reported (rows by Timestamp), not what is
 * recomputed. Without --checkpoints, the default pipeline's witness file
 * (data/witness/audit-checkpoints.jsonl) is read when it exists. The store
 * hashes each row's body as leaf.ts encodes it (one SHA-256 per row, in SQL);
 * --hash-locally reads the body columns and hashes them here instead.
 * `--table otel_logs` verifies the clickhouse exporter's log over otel_logs
 * (its `integrity`), told apart by its columns; its retention policies are
 * the audit table's (`--audit-table`) retention.update events, proven by
 * verifying the audit trail too. A witness shared by several
 * tables' logs holds checkpoints of all of them: those whose origin names
 * another table of the database (`…trailhouse/<db>.<other>…`) and that
 * this table's store does not know are left to that table's verify.
 */
import { existsSync, readFileSync } from 'node:fs';
import { parseWitnessFile } from '../../lib/audit/verify-witness.ts';
import { runVerify, type VerifyRun } from '../../lib/audit/verify-run.ts';
import { auditTables } from '../../lib/audit/verify-store.ts';
import type { CheckpointInput, VerifyOptions } from '../../lib/audit/verify-types.ts';
import { parseTime } from './audit.ts';
import { flag, parseArgs } from './args.ts';
import { connFrom, stdio, type Io } from './oncall-http.ts';
import { checkProofFile } from './proof.ts';
import { DEFAULT_WITNESS_FILE, multi, resolveTrust } from './trust.ts';
import { renderJson, renderText } from './verify-report.ts';
import { badIdentifiers, httpSource } from './verify-store.ts';


const USAGE =
  'usage: trailhouse verify [--endpoint URL] [--database otel] [--table audit_events|otel_logs] [--audit-table audit_events] [--user U --password P] [--checkpoints PATH]... [--pubkey VKEY|FILE]... [--origin O] [--from T --to T] [--hash-locally] [--json]\n' +
  '       trailhouse verify --proof FILE [--pubkey VKEY|FILE]...\n' +
  '       trailhouse verify --report DIR [--pubkey VKEY|FILE]...\n';


/** A Kafka witness topic as witness-file text (kafkajs is loaded only for this). */
async function readKafkaTopic(url: string): Promise<string> {
  const [{ readKafkaWitness }, { silentLogger }] = await Promise.all([import('../../lib/audit/witness-kafka.ts'), import('../../core/telemetry/logger.ts')]);
  return readKafkaWitness(url, silentLogger);
}

export async function verifyCommand(argv: string[], io: Io = stdio): Promise<number> {
  const args = parseArgs(argv, ['json', 'help', 'hash-locally']);
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
  const auditTable = flag(args, 'audit-table') ?? 'audit_events';
  const badAudit = badIdentifiers(conn.database, auditTable);
  if (badAudit) return fail(badAudit.replace('--table', '--audit-table'));
  const t = auditTables(flag(args, 'table'));
  let run: VerifyRun;
  try {
    run = await runVerify({ source: httpSource(conn), table: t.events, auditTable, witness, bad, remarks, trustedKeys: trust.keys, hashLocally: args.flags.has('hash-locally'), ...opts });
  } catch (err) {
    return fail((err as Error).message);
  }
  const { report, logsTable } = run;
  const range = opts.fromNs !== undefined || opts.toNs !== undefined ? `; rows reported from ${flag(args, 'from') ?? 'the first'} to ${flag(args, 'to') ?? 'the last'}` : '';
  if (args.flags.has('json')) io.out(renderJson(report, { endpoint: conn.endpoint, database: conn.database, witnesses: paths }));
  else io.out(renderText(report, `Verifying ${logsTable ? `the log over ${t.events}` : 'the audit trail'} in ${conn.endpoint} (database ${conn.database}) against ${paths.length ? paths.join(', ') : 'no witness'} and ${conn.database}.${t.checkpoints}${range}`));
  return report.ok ? 0 : 1;
}
