/**
 * The integrity section of a report the console renders: verify's walk
 * (lib/audit/verify-run.ts) over the pipeline's own store, against the
 * pipeline's witness file and the keys in its verifiers file — what
 * `trailhouse report` gets by running `trailhouse verify`. The walk reads
 * only the audit tables (the log's rows, leaf records and checkpoints),
 * which every console role may read.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { SharedIntegrity } from '../../audit/shared-integrity.ts';
import { runVerify } from '../../audit/verify-run.ts';
import type { VerifySource } from '../../audit/verify-store.ts';
import { parseWitnessFile } from '../../audit/verify-witness.ts';
import type { IntegrityFacts } from '../../report/facts.ts';
import { verifyOutcome } from '../../report/integrity.ts';
import { readVerifiersFile, verifierKeyOf } from '../../tlog/keys.ts';

const iso = (ns: bigint) => new Date(Number(ns / 1_000_000n)).toISOString();

export async function consoleIntegrity(source: VerifySource | null, shared: SharedIntegrity | undefined, fromNs: bigint, toNs: bigint): Promise<IntegrityFacts> {
  const period = `--from ${iso(fromNs)} --to ${iso(toNs)}`;
  if (!shared || !source) {
    return { command: `npx trailhouse verify ${period} --pubkey KEY`, unavailable: 'no signed audit log runs in this pipeline (the audit processor\'s integrity is off)' };
  }
  const command = `npx trailhouse verify ${period} --database ${shared.database} --table ${shared.table} --pubkey ${verifierKeyOf(shared.signer)}${shared.witnessFile ? ` --checkpoints ${shared.witnessFile}` : ''}`;
  const trusted = existsSync(shared.verifiersFile) ? readVerifiersFile(shared.verifiersFile) : [];
  if (!trusted.length) return { command, unavailable: `no trusted key in ${shared.verifiersFile}` };
  const w = shared.witnessFile && existsSync(shared.witnessFile) ? parseWitnessFile(readFileSync(shared.witnessFile, 'utf8'), shared.witnessFile) : { checkpoints: [], bad: [], remarks: ['no witness file to read'] };
  let r;
  try {
    ({ report: r } = await runVerify({ source, table: shared.table, witness: w.checkpoints, bad: w.bad, remarks: w.remarks, trustedKeys: trusted, fromNs, toNs, fetches: 1 }));
  } catch (err) {
    return { command, unavailable: `the trail could not be verified: ${(err as Error).message}` };
  }
  return {
    command,
    ...verifyOutcome(r),
    remarks: [`verified by the console in the pipeline, trusting the keys in ${shared.verifiersFile}: an auditor re-runs the command with the public key obtained out of band`, ...r.remarks],
  };
}
