/**
 * The report's integrity section: `trailhouse verify` run in-process over the
 * period (its JSON output read back), so the report states exactly what
 * `verify` states and the auditor can re-run the same command.
 */
import type { VerifyReport } from '../../lib/audit/verify-types.ts';
import type { IntegrityFacts } from '../../lib/report/facts.ts';
import { verifyOutcome } from '../../lib/report/integrity.ts';
import type { Conn } from './oncall-http.ts';
import { verifyCommand } from './verify.ts';

export interface IntegrityInput {
  conn: Conn;
  fromNs: bigint;
  toNs: bigint;
  keyFile?: string;
  pubkeys: string[];
  checkpoints: string[];
}

export async function integrityFacts(i: IntegrityInput): Promise<IntegrityFacts> {
  const shown = ['--endpoint', i.conn.endpoint, '--database', i.conn.database, '--from', String(i.fromNs), '--to', String(i.toNs)];
  for (const p of i.pubkeys) shown.push('--pubkey', p);
  for (const c of i.checkpoints) shown.push('--checkpoints', c);
  if (i.keyFile) shown.push('--key-file', i.keyFile);
  if (i.conn.user) shown.push('--user', i.conn.user);
  const command = `trailhouse verify ${shown.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(' ')}${i.conn.password ? ' --password …' : ''}`;
  const argv = [...shown, '--json', ...(i.conn.password ? ['--password', i.conn.password] : [])];
  let out = '';
  let err = '';
  const code = await verifyCommand(argv, { out: (s) => void (out += s), err: (s) => void (err += s) });
  const warnings = err.split('\n').filter(Boolean).map((l) => l.replace(/^trailhouse verify: /, ''));
  if (code === 2 || !out) return { command, unavailable: `the trail could not be verified: ${warnings.join('; ') || `verify exited ${code}`}` };
  const r = JSON.parse(out) as VerifyReport;
  const v = verifyOutcome(r);
  return {
    command,
    ...v,
    ok: v.ok && code === 0,
    remarks: [...warnings, ...r.remarks],
  };
}
