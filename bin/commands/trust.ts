/**
 * Which verifier keys `verify` trusts, and where trailhouse keeps its own:
 * the signing key file (default `data/keys/audit-checkpoint.key`, the
 * embedded store's data path) and, next to it, `verifiers` — one vkey per
 * line, current and retired, so checkpoints signed before a rotation still
 * verify.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { parseVerifierKey } from '../../lib/tlog/note.ts';
import { readVerifiersFile, verifiersFileOf } from '../../lib/tlog/keys.ts';


export const DEFAULT_KEY_FILE = join('data', 'keys', 'audit-checkpoint.key');
/** Where the default pipeline's file witness writes (processors/audit integrity.witnesses.file.path). */
export const DEFAULT_WITNESS_FILE = join('data', 'witness', 'audit-checkpoints.jsonl');

/** Every value of a repeatable flag (`--name v` or `--name=v`), in order. */
export function multi(argv: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === `--${name}` && i + 1 < argv.length) out.push(argv[++i]!);
    else if (a.startsWith(`--${name}=`)) out.push(a.slice(name.length + 3));
  }
  return out;
}

/**
 * `--pubkey` values (a vkey, or a file of them); none = the verifiers file
 * next to the default key file, with a warning that trust then comes from
 * this machine. Throws with the reason.
 */
export function resolveTrust(pubkeys: readonly string[], keyFile = DEFAULT_KEY_FILE): { keys: string[]; warning?: string } {
  if (!pubkeys.length) {
    const file = verifiersFileOf(keyFile);
    if (!existsSync(file)) throw new Error(`no --pubkey given and no verifiers file at ${file}: give the log's public key (trailhouse keys prints it)`);
    const keys = readVerifiersFile(file);
    if (!keys.length) throw new Error(`${file} holds no verifier key`);
    return { keys, warning: `trusting the keys in ${file}: trust then comes from this machine; an auditor passes --pubkey obtained elsewhere` };
  }
  const keys: string[] = [];
  for (const p of pubkeys) {
    let asKey: Error | undefined;
    try {
      parseVerifierKey(p);
      keys.push(p);
      continue;
    } catch (err) {
      asKey = err as Error;
    }
    if (existsSync(p)) keys.push(...readVerifiersFile(p));
    else throw new Error(`--pubkey ${JSON.stringify(p)}: neither a verifier key (${asKey.message}) nor a file`);
  }
  return { keys };
}
