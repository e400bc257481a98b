/**
 * A verify report as the evidence report's integrity facts: whether it
 * verified, the summary line `trailhouse verify` prints, and the failures
 * (the first `listed`, then a count). One reading for `trailhouse report`
 * (verify run over HTTP) and the console (verify run over the pipeline's own
 * store).
 */
import type { VerifyReport } from '../audit/verify-types.ts';

export const LISTED_FAILURES = 100;

export function verifyOutcome(r: VerifyReport, listed = LISTED_FAILURES): { ok: boolean; summary: string; failures: string[] } {
  const s = r.summary;
  const failures = r.findings
    .filter((f) => f.failure)
    .slice(0, listed)
    .map((f) => `${f.kind} ${f.origin ? `${f.origin}@${f.index ?? '?'}${f.end !== undefined && f.end - (f.index ?? 0) > 1 ? `..${f.end - 1}` : ''}` : '(row without origin)'}${f.time ? ` (${f.time})` : ''}: ${f.detail}`);
  for (const o of r.origins) for (const c of o.checkpoints) if (!c.valid) failures.push(`checkpoint ${c.origin} size ${c.size} INVALID: ${c.problems.join('; ')}`);
  if (s.failures > listed) failures.push(`… ${s.failures - listed} more (run the command)`);
  return {
    ok: r.ok,
    summary: `${s.checkpointsValid}/${s.checkpoints} checkpoints valid, ${s.rowsValid}/${s.rows} rows valid${s.unwitnessed ? ` (${s.unwitnessed} newer rows not yet covered by a checkpoint)` : ''}`,
    failures,
  };
}
