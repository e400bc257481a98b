/** A small flag parser: `--name value`, `--name=value`, `--flag`; the last occurrence wins. */
export interface ParsedArgs {
  flags: Map<string, string | true>;
  positional: string[];
}

/**
 * `booleanFlags` never take a value; `valueFlags` always take the next word,
 * even one starting with "--" (e.g. `--node-flags "--trace-gc"`).
 */
export function parseArgs(argv: string[], booleanFlags: readonly string[] = [], valueFlags: readonly string[] = []): ParsedArgs {
  const flags = new Map<string, string | true>();
  const positional: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      positional.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      if (eq > 0) flags.set(a.slice(2, eq), a.slice(eq + 1));
      else {
        const name = a.slice(2);
        const next = argv[i + 1];
        if (booleanFlags.includes(name) || next === undefined || (next.startsWith('--') && !valueFlags.includes(name))) flags.set(name, true);
        else {
          flags.set(name, next);
          i++;
        }
      }
    } else positional.push(a);
  }
  return { flags, positional };
}

export function flag(args: ParsedArgs, name: string): string | undefined {
  const v = args.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}
