/**
 * `trailhouse keys`: the audit log's verifier keys — the current one (of the
 * signing key file) and every retired one (the `verifiers` file next to it),
 * which is what an auditor passes to `trailhouse verify --pubkey`.
 *
 *   trailhouse keys [--key-file F]             print them
 *   trailhouse keys --rotate [--key-file F]    a new signing key; the old verifier key stays in
 *                                              `verifiers`, so old checkpoints still verify
 *   trailhouse keys --generate FILE [--name N] a new key file (refused if FILE exists)
 *
 * The pipeline reads its key at start: restart it after --rotate.
 */
import { existsSync, readFileSync, renameSync } from 'node:fs';
import { hostname } from 'node:os';
import { loadOrCreateSigner, readVerifiersFile, rememberVerifier, signerFromPrivateKey, verifierKeyOf, verifiersFileOf } from '../../lib/tlog/keys.ts';
import type { NoteSigner } from '../../lib/tlog/note.ts';
import { flag, parseArgs } from './args.ts';
import { stdio, type Io } from './oncall-http.ts';
import { DEFAULT_KEY_FILE } from './trust.ts';

const USAGE = 'usage: trailhouse keys [--key-file F] | --rotate [--key-file F] | --generate FILE [--name N]\n';

function readSigner(file: string): NoteSigner {
  return signerFromPrivateKey(readFileSync(file, 'utf8'));
}


export async function keysCommand(argv: string[], io: Io = stdio): Promise<number> {
  const args = parseArgs(argv, ['rotate', 'help', 'json']);
  if (args.flags.has('help')) return (io.out(USAGE), 0);
  const fail = (msg: string) => (io.err(`trailhouse keys: ${msg}\n`), 2);
  if (args.positional.length) return fail(`unexpected argument ${JSON.stringify(args.positional[0])}\n${USAGE}`);
  const generate = flag(args, 'generate');
  if (args.flags.get('generate') === true || args.flags.get('key-file') === true) return fail(`--generate and --key-file need a file\n${USAGE}`);
  try {
    if (generate !== undefined) {
      if (existsSync(generate)) return fail(`${generate} exists: refusing to overwrite a signing key`);
      const name = flag(args, 'name') ?? `${hostname().replace(/[^A-Za-z0-9._:/-]/g, '-')}/trailhouse/otel.audit_events`;
      const signer = loadOrCreateSigner(generate, name);
      const vkey = verifierKeyOf(signer);
      rememberVerifier(verifiersFileOf(generate), vkey);
      io.out(`${vkey}\n`);
      io.err(`trailhouse keys: new signing key ${generate} (0600); its verifier key is above and in ${verifiersFileOf(generate)}\n`);
      return 0;
    }
    const keyFile = flag(args, 'key-file') ?? DEFAULT_KEY_FILE;
    const vfile = verifiersFileOf(keyFile);
    if (args.flags.has('rotate')) {
      if (!existsSync(keyFile)) return fail(`no key at ${keyFile} to rotate (the pipeline creates it at its first start)`);
      const old = readSigner(keyFile);
      rememberVerifier(vfile, verifierKeyOf(old));
      // The new key is made beside the old one (0600, fsynced), then renamed over it: never a moment without a key.
      const next = `${keyFile}.next`;
      if (existsSync(next)) return fail(`${next} exists (an earlier rotation cut short?): remove it, then rotate again`);
      const signer = loadOrCreateSigner(next, old.name);
      rememberVerifier(vfile, verifierKeyOf(signer));
      renameSync(next, keyFile);
      io.out(`${verifierKeyOf(signer)}\n`);
      io.err(`trailhouse keys: rotated ${keyFile}; the old verifier key stays in ${vfile}. Restart the pipeline to sign with the new key.\n`);
      return 0;
    }
    const current = existsSync(keyFile) ? verifierKeyOf(readSigner(keyFile)) : undefined;
    const all = existsSync(vfile) ? readVerifiersFile(vfile) : [];
    if (!current && !all.length) return fail(`no key at ${keyFile} and no ${vfile}: the pipeline creates them at its first start`);
    const keys = [...(current ? [{ vkey: current, status: 'current' }] : []), ...all.filter((k) => k !== current).map((vkey) => ({ vkey, status: 'retired' }))];
    if (args.flags.has('json')) io.out(JSON.stringify({ keyFile, verifiersFile: vfile, keys }, null, 2) + '\n');
    else for (const k of keys) io.out(`${k.status.padEnd(8)} ${k.vkey}\n`);
    return 0;
  } catch (err) {
    return fail((err as Error).message);
  }
}
