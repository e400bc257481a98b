/**
 * `trailhouse pseudonym <value> [--config FILE] [--processor ID]`: the
 * pseudonym the redaction processor stores for a personal identifier, to
 * search the store for a person's records (a data-subject request, an
 * investigation). The key comes from the same config (`pseudonymize.hmac_key`
 * or `hmac_key_file`); `-` reads the value from stdin, so it stays out of
 * the shell history.
 */
import { builtinRegistry } from '../../components.ts';
import { loadConfigFile } from '../../core/config/load.ts';
import { ConfigValidationError, formatErrors } from '../../core/config/schema.ts';
import type { RedactionConfig } from '../../processors/redaction/config.ts';
import { Pseudonymizer, loadPseudonymKey, pseudonymizeEnabled } from '../../processors/redaction/pseudonym.ts';
import { flag, parseArgs } from './args.ts';

const USAGE = 'usage: trailhouse pseudonym <value | -> [--config FILE] [--processor redaction[/name]]\n';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

export async function pseudonymCommand(argv: string[]): Promise<number> {
  const args = parseArgs(argv);
  const [arg] = args.positional;
  if (arg === undefined || args.positional.length > 1) {
    process.stderr.write(USAGE);
    return 2;
  }
  const path = flag(args, 'config') ?? 'pipeline.yaml';
  const only = flag(args, 'processor');
  let cfg;
  try {
    cfg = loadConfigFile(path, builtinRegistry());
  } catch (err) {
    if (!(err instanceof ConfigValidationError)) throw err;
    process.stderr.write(`${path}: invalid configuration:\n${formatErrors(err.errors)}\n`);
    return 1;
  }
  const found = [...cfg.processors.values()].filter(
    (p) => p.factory.type === 'redaction' && (only === undefined || p.id === only) && pseudonymizeEnabled((p.config as RedactionConfig).pseudonymize),
  );
  if (found.length === 0) {
    process.stderr.write(`${path}: no redaction processor${only ? ` "${only}"` : ''} with pseudonymize (keys or emails) configured\n`);
    return 1;
  }
  const value = arg === '-' ? await readStdin() : arg;
  for (const p of found) {
    const c = (p.config as RedactionConfig).pseudonymize;
    let key: Buffer;
    try {
      key = loadPseudonymKey(c);
    } catch (err) {
      process.stderr.write(`${p.id}: ${(err as Error).message}\n`);
      return 1;
    }
    const pseudonym = new Pseudonymizer(key, c.prefix).of(value);
    process.stdout.write(found.length === 1 ? `${pseudonym}\n` : `${p.id}\t${pseudonym}\n`);
  }
  return 0;
}
