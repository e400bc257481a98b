/**
 * `trailhouse verify`'s text output, in the manner of CloudTrail's
 * `validate-logs`: a line per checkpoint, a line per bad row (what happened,
 * origin, index, event id), then the summary `N/M checkpoints valid, K/L
 * rows valid`. Lines for things that are not failures (unwitnessed, expired)
 * say so.
 */
import type { Finding, VerifyReport } from '../../lib/audit/verify-types.ts';

const VERB: Record<Finding['kind'], string> = {
  modified: 'MODIFIED',
  deleted: 'DELETED',
  truncated: 'TRUNCATED',
  inserted: 'INSERTED',
  reordered: 'REORDERED',
  unverified: 'UNVERIFIED',
  unwitnessed: 'unwitnessed',
  expired: 'expired',
};

function subject(f: Finding): string {
  if (!f.origin) return 'Row (no origin)';
  if (f.end !== undefined && f.end - (f.index ?? 0) > 1) return `Rows ${f.origin}@${f.index}..${f.end - 1}`;
  return `Row ${f.eventId ?? `${f.origin}@${f.index}`}`;
}

export function renderText(r: VerifyReport, header: string): string {
  const out: string[] = [header];
  for (const cs of [...r.origins.map((o) => o.checkpoints), r.unreadable]) {
    for (const c of cs) {
      const where = c.sources.map((s) => s.where).join(', ');
      const what = `Checkpoint ${c.origin} size ${c.size}${c.time ? ` (${c.time})` : ''} [${where}]`;
      out.push(c.valid ? `${what} valid` : `${what} INVALID: ${c.problems.join('; ')}`);
    }
  }
  for (const f of r.findings) {
    const time = f.time ? ` (${f.time})` : '';
    out.push(`${subject(f)}${time} ${VERB[f.kind]}${f.failure ? ':' : ' (not a failure):'} ${f.detail}`);
  }
  for (const m of r.remarks) out.push(`note: ${m}`);
  const s = r.summary;
  out.push('');
  out.push(`${s.checkpointsValid}/${s.checkpoints} checkpoints valid, ${s.rowsValid}/${s.rows} rows valid${s.unwitnessed ? ` (${s.unwitnessed} newer rows not yet covered by a checkpoint)` : ''}`);
  out.push(r.ok ? 'verified: nothing changed, removed or slipped in' : `FAILED: ${s.failures} problem(s)`);
  return out.join('\n') + '\n';
}

/** The JSON output: the report, with bigint-free values only. */
export function renderJson(r: VerifyReport, context: Record<string, unknown>): string {
  return JSON.stringify({ ...context, ok: r.ok, summary: r.summary, origins: r.origins, unreadable: r.unreadable, findings: r.findings, remarks: r.remarks }, null, 2) + '\n';
}
