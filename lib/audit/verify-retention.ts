/**
 * "Expired under rule R" rather than "deleted": a row whose leaf record
 * remains is explained by the retention policy only if a rule of a policy
 * in force would have expired it while that policy was in force. The
 * policies come from the audit trail itself — each `retention.update`
 * event (lib/retention/apply.ts) carries the rules as JSON — so they are
 * only believed when those events verify too (settleExpired): a deletion
 * explained by a policy nobody can prove is reported as tampering.
 */
import { expired, parsePolicyJson, ruleFor, type RetentionRule } from '../retention/policy.ts';
import type { LeafRecord, VerifyReport } from './verify-types.ts';

/** One `retention.update` event of the audit table. */
export interface PolicyEvent {
  origin: string;
  index: number;
  timeNs: bigint;
  /** Details['policy']: policyJson() of the rules. */
  policy: string;
}

export interface RetentionOracle {
  expiredUnder(rec: LeafRecord): string | null;
  /** Event ids of the policies that explained a missing row. */
  readonly used: Set<string>;
  /** Policies that could not be read (their events are then not used). */
  readonly problems: string[];
}

/**
 * `table`: the rules' table name (the audit table's); `nowMs`: when verify
 * runs. A version is in force from its event's time until the next one's.
 * `kind`: what the leaf records' header columns are — the audit table's
 * Category and Outcome, or an otel_logs log's SeverityText and
 * SeverityNumber (lib/audit/otel-logs-leaf.ts). A rule that matches on
 * something the leaf record does not keep (a resource attribute) explains
 * nothing.
 */
export function retentionOracle(events: readonly PolicyEvent[], table: string, nowMs: number, kind: 'audit' | 'logs' = 'audit'): RetentionOracle {
  const problems: string[] = [];
  const versions: { id: string; fromMs: number; untilMs: number; rules: RetentionRule[] }[] = [];
  const sorted = [...events].sort((a, b) => (a.timeNs < b.timeNs ? -1 : a.timeNs > b.timeNs ? 1 : 0));
  sorted.forEach((e, k) => {
    const id = `${e.origin}@${e.index}`;
    try {
      const rules = parsePolicyJson(e.policy);
      const next = sorted[k + 1];
      versions.push({ id, fromMs: Number(e.timeNs / 1_000_000n), untilMs: next ? Number(next.timeNs / 1_000_000n) : nowMs, rules });
    } catch (err) {
      problems.push(`retention policy of ${id}: ${(err as Error).message}; not used`);
    }
  });
  const used = new Set<string>();
  return {
    used,
    problems,
    expiredUnder(rec) {
      const timeMs = Number(rec.timeNs / 1_000_000n);
      const row =
        kind === 'audit'
          ? { category: rec.category, outcome: rec.outcome, service: rec.service }
          : { severityText: rec.category, severityNumber: Number(rec.outcome), service: rec.service };
      for (let k = versions.length - 1; k >= 0; k--) {
        const v = versions[k]!;
        const rule = ruleFor(v.rules, table, row);
        // Expired by the time this version stopped being in force (or now, for the current one).
        if (rule && expired(rule, timeMs, v.untilMs)) {
          used.add(v.id);
          return rule.name;
        }
      }
      return null;
    },
  };
}

/**
 * After verification: an `expired` finding stands only if every policy event
 * used is a row the checkpoints prove (no finding of its own, below its
 * log's verified size); otherwise every `expired` finding becomes a failure.
 * Updates the summary and `ok`. `proofs`: the audit trail's report, when
 * `report` is of another table's log (the events are audit rows).
 */
export function settleExpired(report: VerifyReport, oracle: RetentionOracle, proofs: Pick<VerifyReport, 'origins' | 'findings'> = report): void {
  const verified = new Map(proofs.origins.map((o) => [o.origin, o.verifiedSize]));
  const flagged = new Set(proofs.findings.filter((f) => f.failure && f.eventId).map((f) => f.eventId!));
  const unproven = [...oracle.used].filter((id) => {
    const at = id.lastIndexOf('@');
    return flagged.has(id) || !(Number(id.slice(at + 1)) < (verified.get(id.slice(0, at)) ?? 0));
  });
  report.remarks.push(...oracle.problems);
  if (!unproven.length) return;
  for (const f of report.findings) {
    if (f.kind !== 'expired') continue;
    f.kind = 'deleted';
    f.failure = true;
    f.detail += `, but the retention.update event of that policy (${unproven.join(', ')}) is not proven by a checkpoint`;
    report.summary.failures++;
  }
  report.ok = report.summary.failures === 0;
}
