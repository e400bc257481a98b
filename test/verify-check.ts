/**
 * `trailhouse verify` as an assertion, for the process-level tests of the
 * audit log (crash, Kafka ingesters): run it through the query interface
 * against the witness file and the trusted verifiers, expect exit 0 and no
 * failure; returns its JSON report.
 */
import { expect } from 'vitest';
import { verifyCommand } from '../bin/commands/verify.ts';
import type { VerifyReport } from '../lib/audit/verify-types.ts';

export async function expectVerifies(endpoint: string, witnessFile: string, verifiersFile: string, extra: string[] = []): Promise<VerifyReport> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await verifyCommand(['--endpoint', endpoint, '--checkpoints', witnessFile, '--pubkey', verifiersFile, '--json', ...extra], {
    out: (s) => void out.push(s),
    err: (s) => void err.push(s),
  });
  expect(err.join(''), 'verify wrote to stderr').toBe('');
  const report = JSON.parse(out.join('')) as VerifyReport;
  expect(report.findings.filter((f) => f.failure)).toEqual([]);
  expect(report.origins.flatMap((o) => o.checkpoints).filter((c) => !c.valid)).toEqual([]);
  expect(code).toBe(0);
  return report;
}
