/**
 * `trailhouse verify` without the I/O: checkpoints (witness files and the
 * store's audit_events_checkpoints), the trusted verifier keys, audit_events rows and
 * audit_events_log_leaves records in, a verdict per checkpoint and a finding per bad
 * row out. Feed an origin page by page in index order (AuditVerifier), or
 * everything at once (verifyAudit).
 *
 * Trust: only what a trusted key signed is believed. The leaf records are
 * the log's own index (kept past retention) and are checked like the rows:
 * the rows against the records, both against the signed roots.
 */
import { readCheckpoints, trustedVerifiers, type CheckpointSet } from './verify-checkpoints.ts';
import { OriginVerifier } from './verify-origin.ts';
import { isoNs } from './verify-resolve.ts';
import type { CheckpointInput, CheckpointVerdict, Finding, LeafRecord, OriginReport, StoredRow, VerifyOptions, VerifyReport } from './verify-types.ts';

export class AuditVerifier {
  private readonly set: CheckpointSet;
  private readonly verifiers = new Map<string, OriginVerifier>();
  private readonly orphans: Finding[] = [];
  private readonly extraVerdicts: CheckpointVerdict[] = [];
  private readonly remarks: string[] = [];

  /** `bad`: witness lines that are not checkpoints at all; `remarks`: from reading the witnesses. Throws on an unparsable trusted key. */
  constructor(
    checkpoints: readonly CheckpointInput[],
    private readonly opts: VerifyOptions,
    extra: { bad?: readonly { where: string; reason: string }[]; remarks?: readonly string[] } = {},
  ) {
    this.set = readCheckpoints(checkpoints, trustedVerifiers(opts.trustedKeys));
    for (const b of extra.bad ?? []) this.extraVerdicts.push({ origin: '?', size: 0, root: '', sources: [{ source: 'witness', where: b.where }], signed: false, valid: false, problems: [b.reason] });
    this.extraVerdicts.push(...this.set.unreadable);
    this.remarks.push(...(extra.remarks ?? []), ...this.set.remarks);
  }

  /** Origins named by a checkpoint. */
  checkpointOrigins(): string[] {
    return [...this.set.byOrigin.keys()];
  }

  /** The largest checkpoint size of an origin: the CLI reads at least this far. */
  checkpointSize(origin: string): number {
    return this.set.byOrigin.get(origin)?.at(-1)?.size ?? 0;
  }

  origin(origin: string): OriginVerifier {
    let v = this.verifiers.get(origin);
    if (!v) this.verifiers.set(origin, (v = new OriginVerifier(origin, this.set.byOrigin.get(origin) ?? [], this.opts)));
    return v;
  }

  /** Rows without LogOrigin: never written through the log. */
  addOrphans(rows: readonly StoredRow[]): void {
    for (const r of rows) {
      if (this.opts.fromNs !== undefined && r.timeNs < this.opts.fromNs) continue;
      if (this.opts.toNs !== undefined && r.timeNs >= this.opts.toNs) continue;
      const who = [r.category, r.action, r.outcome, r.principal].filter(Boolean).join(' ');
      this.orphans.push({ kind: 'inserted', origin: '', time: isoNs(r.timeNs), detail: `a row without LogOrigin (${who}): not written through the log`, failure: true });
    }
  }

  report(): VerifyReport {
    const wanted = (o: string) => this.opts.origin === undefined || o === this.opts.origin;
    for (const o of this.set.byOrigin.keys()) if (wanted(o)) this.origin(o);
    const origins: OriginReport[] = [];
    const findings: Finding[] = [...this.orphans];
    const remarks = [...this.remarks];
    for (const [o, v] of [...this.verifiers].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (!wanted(o)) continue;
      v.feed([], [], Math.max(v.next, v.maxSize));
      v.decide();
      let witnessed = 0;
      let verified = 0;
      for (const c of v.checkpoints) {
        const root = v.roots.get(c.size);
        if (root === undefined) c.verdict.problems.push(c.size > v.gapAt ? `cannot recompute its root: index ${v.gapAt} has neither a row nor a leaf record` : `cannot recompute its root at size ${c.size}`);
        else if (!root.equals(c.root)) c.verdict.problems.push(`root differs from the root of the stored leaves at size ${c.size} (${root.toString('base64')})`);
        if (c.signed) {
          witnessed = Math.max(witnessed, c.size);
          if (root?.equals(c.root)) verified = Math.max(verified, c.size);
        }
        c.verdict.valid = c.signed && c.verdict.problems.length === 0;
      }
      const rows = v.finish(witnessed, verified);
      if (!v.checkpoints.some((c) => c.signed) && rows.total > 0) remarks.push(`${o}: no checkpoint signed by a trusted key: none of its ${rows.total} rows is proven`);
      origins.push({ origin: o, checkpoints: v.checkpoints.map((c) => c.verdict), witnessedSize: witnessed, verifiedSize: verified, rows });
      findings.push(...v.findings);
    }
    // By log and index, as an auditor reads them (stable: one index's findings keep their order).
    findings.sort((a, b) => (a.origin < b.origin ? -1 : a.origin > b.origin ? 1 : (a.index ?? -1) - (b.index ?? -1)));
    const verdicts = [...origins.flatMap((r) => r.checkpoints), ...this.extraVerdicts];
    const checkpointsValid = verdicts.filter((c) => c.valid).length;
    const rowCount = origins.reduce((n, r) => n + r.rows.total - r.rows.unwitnessed, 0) + this.orphans.length;
    const rowsValid = origins.reduce((n, r) => n + r.rows.valid, 0);
    const unwitnessed = origins.reduce((n, r) => n + r.rows.unwitnessed, 0);
    const failures = findings.filter((f) => f.failure).length + verdicts.length - checkpointsValid;
    return {
      origins,
      unreadable: this.extraVerdicts,
      findings,
      remarks,
      summary: { checkpoints: verdicts.length, checkpointsValid, rows: rowCount, rowsValid, unwitnessed, failures },
      ok: failures === 0,
    };
  }
}

/** Everything in memory at once: groups by origin, sorts by index, feeds, reports. */
export function verifyAudit(
  input: { checkpoints: readonly CheckpointInput[]; rows: readonly StoredRow[]; leaves: readonly LeafRecord[]; bad?: { where: string; reason: string }[]; remarks?: string[] },
  opts: VerifyOptions,
): VerifyReport {
  const v = new AuditVerifier(input.checkpoints, opts, input);
  const rows = new Map<string, StoredRow[]>();
  const recs = new Map<string, LeafRecord[]>();
  const orphans: StoredRow[] = [];
  for (const r of input.rows) {
    if (!r.origin) orphans.push(r);
    else (rows.get(r.origin) ?? rows.set(r.origin, []).get(r.origin)!).push(r);
  }
  for (const l of input.leaves) (recs.get(l.origin) ?? recs.set(l.origin, []).get(l.origin)!).push(l);
  v.addOrphans(orphans);
  for (const o of new Set([...rows.keys(), ...recs.keys()])) {
    if (opts.origin !== undefined && o !== opts.origin) continue;
    const r = (rows.get(o) ?? []).sort((a, b) => a.index - b.index);
    const l = (recs.get(o) ?? []).sort((a, b) => a.index - b.index);
    const end = Math.max(v.checkpointSize(o), (r.at(-1)?.index ?? -1) + 1, (l.at(-1)?.index ?? -1) + 1);
    v.origin(o).feed(r, l, end);
  }
  return v.report();
}
