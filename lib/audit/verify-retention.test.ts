/**
 * Retention and verify: a row removed by a rule of a policy in force (read
 * from the audit trail's own retention.update events) is "expired", not
 * deleted — only while that event itself verifies, and only if the rule
 * could have expired it while its policy was in force.
 */
import { describe, expect, it } from 'vitest';
import { verifyAudit } from './verify.ts';
import { retentionOracle, settleExpired, type PolicyEvent } from './verify-retention.ts';
import { newSigner, syntheticLog, type SyntheticLog } from './testdata/synthetic-log.ts';
import { policyJson, type RetentionRule } from '../retention/policy.ts';
import type { VerifyReport } from './verify-types.ts';

const DAY = 86_400_000;
const signer = newSigner();
const RULES: RetentionRule[] = [
  { name: 'authz-denials', table: 'audit_events', periodMs: 730 * DAY, where: { category: ['authorization'], outcome: ['denied'] } },
  { name: 'audit', table: 'audit_events', periodMs: DAY, where: { category: ['sensitive_access'] } },
];

/** A log whose row 50 is the retention.update event carrying `rules`; rows 0-9 removed (their leaf records stay). */
function logWithPolicy(rules: RetentionRule[]): { log: SyntheticLog; event: PolicyEvent } {
  const log = syntheticLog(100, [40, 80, 100], signer);
  const policy = policyJson(rules);
  return { log, event: { origin: log.rows[50]!.origin, index: 50, timeNs: log.rows[50]!.timeNs, policy } };
}

function verify(log: SyntheticLog, events: PolicyEvent[], nowMs = Date.now()): VerifyReport {
  const oracle = retentionOracle(events, 'audit_events', nowMs);
  const report = verifyAudit({ checkpoints: log.checkpoints, rows: log.rows, leaves: log.leaves }, { trustedKeys: [log.vkey], expiredUnder: oracle.expiredUnder });
  settleExpired(report, oracle);
  return report;
}

const sensitive = (log: SyntheticLog) => log.rows.filter((r) => r.category === 'sensitive_access' && r.index < 10).map((r) => r.index);

describe('verify with a retention policy from the audit trail', () => {
  it('rows a rule expired are "expired under rule R"; others removed are deleted', () => {
    const { log, event } = logWithPolicy(RULES);
    const gone = sensitive(log);
    log.rows = log.rows.filter((r) => r.index >= 10);
    const r = verify(log, [event]);
    const expiredIdx = r.findings.filter((f) => f.kind === 'expired').flatMap((f) => Array.from({ length: f.end! - f.index! }, (_, k) => f.index! + k));
    // Row 0 (authorization, denied, May 2024) is past 730 days too; row 7 (authorization, allowed) matches no rule.
    expect(expiredIdx).toEqual([0, ...gone]);
    expect(r.findings.filter((f) => f.kind === 'expired').map((f) => [f.index, f.rule, f.failure])).toEqual([
      [0, 'authz-denials', false],
      [1, 'audit', false],
      [8, 'audit', false],
    ]);
    expect(r.findings.filter((f) => f.failure).map((f) => [f.kind, f.index])).toEqual([['deleted', 7]]);
    // Before the 730 days had passed, row 0 was not expired either.
    const early = verify(log, [event], Date.UTC(2025, 0, 1));
    expect(early.findings.filter((f) => f.failure).map((f) => [f.kind, f.index])).toEqual([
      ['deleted', 0],
      ['deleted', 7],
    ]);
  });

  it('all rows a rule explains: verify passes', () => {
    const { log, event } = logWithPolicy(RULES);
    const gone = new Set(sensitive(log));
    log.rows = log.rows.filter((r) => !gone.has(r.index));
    const r = verify(log, [event]);
    expect(r.ok).toBe(true);
    expect(r.findings.every((f) => f.kind === 'expired')).toBe(true);
  });

  it('a policy whose retention.update row was tampered with explains nothing', () => {
    const { log, event } = logWithPolicy(RULES);
    const gone = new Set(sensitive(log));
    log.rows = log.rows.filter((r) => !gone.has(r.index)).map((r) => (r.index === 50 ? { ...r, resource: 'tampered' } : r));
    const r = verify(log, [event]);
    expect(r.ok).toBe(false);
    expect(r.findings.some((f) => f.kind === 'expired')).toBe(false);
    expect(r.findings.find((f) => f.kind === 'deleted')!.detail).toContain(`is not proven by a checkpoint`);
  });

  it('a short rule replaced before a row could expire under it does not explain the row', () => {
    const { log, event } = logWithPolicy(RULES);
    // The 1-day rule is replaced one hour after it was set by a policy without it.
    const later: PolicyEvent = { ...event, index: 60, timeNs: event.timeNs + 3_600_000_000_000n, policy: policyJson([RULES[0]!]) };
    const gone = new Set(sensitive(log));
    log.rows = log.rows.filter((r) => !gone.has(r.index));
    const r = verify(log, [event, later]);
    expect(r.findings.some((f) => f.kind === 'expired')).toBe(false);
    expect(r.ok).toBe(false);
  });

  it('a policy that is not the canonical JSON is not used, with a remark', () => {
    const { log, event } = logWithPolicy(RULES);
    log.rows = log.rows.filter((r) => r.index !== 1);
    const r = verify(log, [{ ...event, policy: '[{"name":"x"}]' }]);
    expect(r.findings.filter((f) => f.failure).map((f) => [f.kind, f.index])).toEqual([['deleted', 1]]);
    expect(r.remarks.join('\n')).toMatch(/retention policy of .*@50: .*not used/);
  });
});
