/**
 * `trailhouse verify --report DIR [--pubkey VKEY|FILE]...`: checks an
 * evidence report's signature (report.sig) against the trusted keys (the
 * same trust rules as `verify`, trust.ts) and the SHA-256 of report.html and
 * report.json. Exit 0 verified; 1 not (modified, missing, untrusted); 2 usage.
 */
import { lstatSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkReport } from '../../lib/report/sign.ts';
import type { Io } from './oncall-http.ts';

/**
 * A report file's bytes: only a regular file in the directory itself. A
 * symlink is refused (what it names can change after the check, and it can
 * name a device or a FIFO that never ends), as is anything else.
 */
function readPlain(dir: string, name: string): { bytes: Buffer } | { problem: string } {
  const path = join(dir, name);
  try {
    const st = lstatSync(path);
    if (st.isSymbolicLink()) return { problem: `${path} is a symbolic link: a report's files are checked only as regular files` };
    if (!st.isFile()) return { problem: `${path} is not a regular file` };
    return { bytes: readFileSync(path) };
  } catch (err) {
    return { problem: (err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : (err as Error).message };
  }
}

/** `keys`: the trusted verifier keys, as `verify` resolved them. */
export function verifyReportDir(dir: string, keys: readonly string[], io: Io): number {
  const sig = readPlain(dir, 'report.sig');
  if ('problem' in sig) {
    io.out(`FAILED: no signature: ${join(dir, 'report.sig')}: ${sig.problem === 'missing' ? 'missing (an unsigned report cannot be verified)' : sig.problem}\n`);
    return 1;
  }
  const refused: string[] = [];
  const read = (name: string): Buffer | null => {
    const f = readPlain(dir, name);
    if ('bytes' in f) return f.bytes;
    if (f.problem !== 'missing') refused.push(`FAILED ${name}: ${f.problem}`);
    return null;
  };
  const r = checkReport(sig.bytes.toString('utf8'), keys, read);
  const ok = r.ok && refused.length === 0;
  const head = r.period ? [`Evidence report ${dir}: period ${r.period.from} to ${r.period.to}`] : [`Evidence report ${dir}`];
  io.out([...head, ...r.lines, ...new Set(refused), ok ? 'verified: the report is as signed' : 'FAILED: the report does not verify'].join('\n') + '\n');
  return ok ? 0 : 1;
}
