/**
 * `trailhouse verify --report DIR [--pubkey VKEY|FILE]...`: checks an
 * evidence report's signature (report.sig) against the trusted keys (the
 * same trust rules as `verify`, trust.ts) and the SHA-256 of report.html and
 * report.json. Exit 0 verified; 1 not (modified, missing, untrusted); 2 usage.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkReport } from '../../lib/report/sign.ts';
import type { Io } from './oncall-http.ts';

/** `keys`: the trusted verifier keys, as `verify` resolved them. */
export function verifyReportDir(dir: string, keys: readonly string[], io: Io): number {
  let note: string;
  try {
    note = readFileSync(join(dir, 'report.sig'), 'utf8');
  } catch (err) {
    io.out(`FAILED: no signature: ${join(dir, 'report.sig')}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing (an unsigned report cannot be verified)' : (err as Error).message}\n`);
    return 1;
  }
  const read = (name: string): Buffer | null => {
    try {
      return readFileSync(join(dir, name));
    } catch {
      return null;
    }
  };
  const r = checkReport(note, keys, read);
  const head = r.period ? [`Evidence report ${dir}: period ${r.period.from} to ${r.period.to}`] : [`Evidence report ${dir}`];
  io.out([...head, ...r.lines, r.ok ? 'verified: the report is as signed' : 'FAILED: the report does not verify'].join('\n') + '\n');
  return r.ok ? 0 : 1;
}
