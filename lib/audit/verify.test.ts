/**
 * verify on synthetic logs: clean data verifies, each kind of tampering is
 * found and named, checkpoints are judged on their own (signature, fork,
 * replaced copy, torn witness line).
 */
import { describe, expect, it } from 'vitest';
import { AuditVerifier, verifyAudit } from './verify.ts';
import { feedRowBinary } from './verify-rowbinary.ts';
import { parseWitnessFile } from './verify-witness.ts';
import { checkpointNote, leavesPage, newSigner, ORIGIN, recordOf, row, rowsPage, syntheticLog, type SyntheticLog } from './testdata/synthetic-log.ts';
import type { VerifyOptions, VerifyReport } from './verify-types.ts';

const signer = newSigner();
const fresh = (n = 100, sizes = [40, 80, 100]): SyntheticLog => syntheticLog(n, sizes, signer);
/** Verifies from objects, and from RowBinary pages (the CLI's path, with its fast path): both must report the same. */
function run(log: SyntheticLog, opts: Partial<VerifyOptions> = {}): VerifyReport {
  const o: VerifyOptions = { trustedKeys: [log.vkey], ...opts };
  const report = verifyAudit({ checkpoints: log.checkpoints, rows: log.rows, leaves: log.leaves }, o);
  const v = new AuditVerifier(log.checkpoints, o);
  v.addOrphans(log.rows.filter((r) => !r.origin));
  for (const origin of new Set([...log.rows, ...log.leaves].map((r) => r.origin).filter(Boolean))) {
    const rows = log.rows.filter((r) => r.origin === origin).sort((a, b) => a.index - b.index);
    const recs = log.leaves.filter((r) => r.origin === origin).sort((a, b) => a.index - b.index);
    const end = Math.max(v.checkpointSize(origin), (rows.at(-1)?.index ?? -1) + 1, (recs.at(-1)?.index ?? -1) + 1);
    // Two pages, split in the middle, as the CLI pages by index ranges; in no order, as the store sends them
    // (odd indexes first; records at one index keep their order).
    const mid = Math.floor(end / 2);
    const mixed = <T extends { index: number }>(xs: T[], a: number, b: number) => {
      const inPage = xs.filter((r) => r.index >= a && r.index < b);
      return [...inPage.filter((r) => r.index % 2), ...inPage.filter((r) => !(r.index % 2))];
    };
    const page = (a: number, b: number) => [rowsPage(mixed(rows, a, b)), leavesPage(mixed(recs, a, b))] as const;
    feedRowBinary(v.origin(origin), ...page(0, mid), mid);
    feedRowBinary(v.origin(origin), ...page(mid, end), end);
  }
  expect(v.report()).toEqual(report);
  return report;
}
const kinds = (r: VerifyReport) => r.findings.filter((f) => f.failure).map((f) => [f.kind, f.index, f.field]);

describe('verify: clean data', () => {
  it('every checkpoint and row verifies', () => {
    const r = run(fresh());
    expect(r.findings).toEqual([]);
    expect(r.summary).toEqual({ checkpoints: 3, checkpointsValid: 3, rows: 100, rowsValid: 100, unwitnessed: 0, failures: 0 });
    expect(r.ok).toBe(true);
    expect(r.origins[0]!.checkpoints.map((c) => [c.size, c.valid, c.sources.map((s) => s.source)])).toEqual([
      [40, true, ['witness', 'store']],
      [80, true, ['witness', 'store']],
      [100, true, ['witness', 'store']],
    ]);
  });

  it('rows newer than the newest checkpoint are unwitnessed, not a failure', () => {
    const r = run(fresh(120));
    expect(r.ok).toBe(true);
    expect(r.summary).toMatchObject({ rows: 100, rowsValid: 100, unwitnessed: 20 });
    expect(r.findings).toMatchObject([{ kind: 'unwitnessed', index: 100, end: 120, failure: false }]);
  });

  it('a log with rows and no checkpoint at all fails: nothing proves them', () => {
    const log = fresh();
    const other = syntheticLog(5, [], signer, 'slipped.in/log');
    log.rows.push(...other.rows);
    log.leaves.push(...other.leaves);
    const r = run(log);
    expect(r.ok).toBe(false);
    expect(r.findings).toMatchObject([{ kind: 'unwitnessed', origin: 'slipped.in/log', index: 0, end: 5, failure: true }]);
    expect(r.summary).toMatchObject({ checkpointsValid: 3, rows: 100, rowsValid: 100, unwitnessed: 5 });
  });

  it('a row missing under a retention rule is "expired", not deleted', () => {
    const log = fresh();
    log.rows.splice(0, 10);
    const r = run(log, { expiredUnder: (rec) => (rec.timeNs < log.leaves[10]!.timeNs ? 'audit-400d' : null) });
    expect(r.ok).toBe(true);
    expect(r.findings).toMatchObject([{ kind: 'expired', index: 0, end: 10, rule: 'audit-400d', failure: false }]);
    expect(r.summary).toMatchObject({ checkpointsValid: 3, rows: 90, rowsValid: 90 });
  });
});

describe('verify: tampering with rows', () => {
  it('modified: a body column, then a header column, each named', () => {
    const log = fresh();
    log.rows[5] = { ...log.rows[5]!, principal: 'spiffe://cluster.local/ns/default/sa/innocent' };
    log.rows[50] = { ...log.rows[50]!, outcome: 'allowed' === log.rows[50]!.outcome ? 'denied' : 'allowed' };
    const r = run(log);
    expect(kinds(r)).toEqual([
      ['modified', 5, 'body'],
      ['modified', 50, 'Outcome'],
    ]);
    expect(r.findings[0]).toMatchObject({ eventId: `${ORIGIN}@5`, detail: expect.stringContaining('leaf hash differs at index 5') });
    expect(r.summary).toMatchObject({ checkpointsValid: 3, rows: 100, rowsValid: 98 });
    expect(r.ok).toBe(false);
  });

  it('a changed Timestamp is named', () => {
    const log = fresh();
    log.rows[7] = { ...log.rows[7]!, timeNs: log.rows[7]!.timeNs + 1n };
    expect(kinds(run(log))).toEqual([['modified', 7, 'Timestamp']]);
  });

  it('a leaf record changed instead of the row: the checkpoint sides with the row', () => {
    const log = fresh();
    log.leaves[30] = { ...log.leaves[30]!, category: 'configuration' };
    const r = run(log);
    expect(kinds(r)).toEqual([['modified', 30, 'leaf record']]);
    expect(r.summary).toMatchObject({ checkpointsValid: 3, rowsValid: 100 });
  });

  it('several disagreements, within one checkpoint interval and across them: each side named', () => {
    const log = fresh();
    log.leaves[10] = { ...log.leaves[10]!, service: 'elsewhere' };
    log.leaves[41] = { ...log.leaves[41]!, bodyHash: Buffer.alloc(32, 9) };
    log.leaves[42] = { ...log.leaves[42]!, outcome: 'success' };
    log.rows[43] = { ...log.rows[43]!, policy: 'none' };
    log.rows[60] = { ...log.rows[60]!, category: 'configuration' };
    const r = run(log);
    expect(kinds(r)).toEqual([
      ['modified', 10, 'leaf record'],
      ['modified', 41, 'leaf record'],
      ['modified', 42, 'leaf record'],
      ['modified', 43, 'body'],
      ['modified', 60, 'Category'],
    ]);
    expect(r.summary).toMatchObject({ checkpointsValid: 3, rowsValid: 98 });
  });

  it('deleted: a row gone, its leaf record left', () => {
    const log = fresh();
    log.rows.splice(12, 1);
    const r = run(log);
    expect(kinds(r)).toEqual([['deleted', 12, undefined]]);
    expect(r.findings[0]!.detail).toContain('leaf record remains');
    expect(r.summary).toMatchObject({ checkpointsValid: 3, rows: 99, rowsValid: 99 });
  });

  it('deleted with its leaf record: the checkpoints beyond cannot be recomputed', () => {
    const log = fresh();
    log.rows.splice(60, 1);
    log.leaves.splice(60, 1);
    const r = run(log);
    expect(kinds(r)).toEqual([
      ['unverified', 40, undefined],
      ['deleted', 60, undefined],
    ]);
    expect(r.origins[0]!.checkpoints.map((c) => c.valid)).toEqual([true, false, false]);
    expect(r.origins[0]!.checkpoints[1]!.problems[0]).toContain('index 60 has neither a row nor a leaf record');
  });

  it('inserted: a row without LogOrigin, a second row at an index, a row past every checkpoint without a leaf record', () => {
    const log = fresh();
    log.rows.push({ ...row('', 0, 999) });
    const forged = { ...row(ORIGIN, 20, 777) };
    log.rows.push(forged);
    log.leaves.push(recordOf(forged)); // the materialized view records a forged insert too
    log.rows.push(row(ORIGIN, 100));
    const r = run(log);
    expect(kinds(r)).toEqual([
      ['inserted', undefined, undefined],
      ['inserted', 20, 'leaf record'],
      ['inserted', 20, undefined],
      ['inserted', 100, undefined],
    ]);
    expect(r.summary).toMatchObject({ checkpointsValid: 3, rowsValid: 100 });
  });

  it('reordered: two rows swap their LogIndex', () => {
    const log = fresh();
    log.rows[3] = { ...log.rows[3]!, index: 7 };
    log.rows[7] = { ...log.rows[7]!, index: 3 };
    const r = run(log);
    expect(kinds(r)).toEqual([
      ['reordered', 3, 'LogIndex'],
      ['reordered', 7, 'LogIndex'],
    ]);
    expect(r.findings[0]!.detail).toContain('the one logged at index 7');
  });

  it('truncated: the newest rows and their leaf records gone, the store checkpoint too; the witness catches it', () => {
    const log = fresh();
    log.rows.splice(90);
    log.leaves.splice(90);
    log.checkpoints = log.checkpoints.filter((c) => !(c.source === 'store' && c.claimed?.size === 100));
    const r = run(log);
    expect(kinds(r)).toEqual([
      ['unverified', 80, undefined],
      ['truncated', 90, undefined],
    ]);
    expect(r.findings[1]).toMatchObject({ end: 100 });
    expect(r.summary).toMatchObject({ checkpoints: 3, checkpointsValid: 2 });
  });

  it('rows and leaf records rewritten alike: the signed root does not match', () => {
    const log = fresh();
    log.rows[45] = { ...log.rows[45]!, resource: '/harmless' };
    log.leaves[45] = recordOf(log.rows[45]!);
    const r = run(log);
    expect(kinds(r)).toEqual([['unverified', 40, undefined]]);
    expect(r.origins[0]!.checkpoints.map((c) => c.valid)).toEqual([true, false, false]);
    expect(r.origins[0]!.checkpoints[1]!.problems[0]).toContain('root differs');
    expect(r.summary).toMatchObject({ rows: 100, rowsValid: 40 });
  });

  it('--from/--to restrict what is reported, not what is recomputed', () => {
    const log = fresh();
    log.rows[5] = { ...log.rows[5]!, principal: 'x' };
    log.rows[70] = { ...log.rows[70]!, principal: 'y' };
    const r = run(log, { fromNs: log.rows[60]!.timeNs, toNs: log.rows[80]!.timeNs });
    expect(kinds(r)).toEqual([['modified', 70, 'body']]);
    expect(r.summary).toMatchObject({ checkpointsValid: 3, rows: 20, rowsValid: 19 });
  });
});

describe('verify: checkpoints', () => {
  it('a fork: two signed checkpoints of one size with different roots', () => {
    const log = fresh();
    const other = checkpointNote(signer, ORIGIN, 80, Buffer.alloc(32, 7), new Date(Date.UTC(2024, 4, 14, 9, 13)));
    log.checkpoints.push({ source: 'witness', where: 'other-witness.jsonl:1', note: other });
    const r = run(log);
    const at80 = r.origins[0]!.checkpoints.filter((c) => c.size === 80);
    expect(at80.map((c) => c.valid)).toEqual([false, false]);
    expect(at80.every((c) => c.problems.some((p) => p.startsWith('fork:')))).toBe(true);
    expect(r.ok).toBe(false);
  });

  it('signed by a key that is not trusted', () => {
    const log = fresh();
    const r = run(log, { trustedKeys: [syntheticLog(1, [1], newSigner('someone.else')).vkey] });
    expect(r.summary).toMatchObject({ checkpoints: 3, checkpointsValid: 0, rowsValid: 0 });
    expect(r.origins[0]!.checkpoints[0]!.problems[0]).toMatch(/^signature: /);
    expect(r.ok).toBe(false);
  });

  it('a replaced store checkpoint: its columns disagree with the note, or its note is not the witness copy', () => {
    const log = fresh();
    const i = log.checkpoints.findIndex((c) => c.source === 'store' && c.claimed?.size === 100);
    log.checkpoints[i] = { ...log.checkpoints[i]!, claimed: { ...log.checkpoints[i]!.claimed, root: Buffer.alloc(32, 1) } };
    const j = log.checkpoints.findIndex((c) => c.source === 'store' && c.claimed?.size === 80);
    const replaced = checkpointNote(signer, ORIGIN, 80, log.roots.get(80)!, new Date(Date.UTC(2030, 0, 1)));
    log.checkpoints[j] = { ...log.checkpoints[j]!, note: replaced };
    const r = run(log);
    const bad = r.origins[0]!.checkpoints.filter((c) => !c.valid);
    expect(bad.map((c) => [c.size, c.problems[0]!.split(' ').slice(0, 3).join(' ')])).toEqual([
      [80, "the store's copy"],
      [100, 'otel.audit_events_checkpoints says root'],
    ]);
    expect(r.ok).toBe(false);
  });

  it('a witness file: a torn last line is ignored with a remark, a bad line in the middle is refused', () => {
    const log = fresh();
    const lines = log.witness.split('\n');
    const w = parseWitnessFile(`${lines[0]}\n{oops\n${lines[1]}\n${lines[2]}\n{"origin":"x","si`, 'w.jsonl');
    expect(w.checkpoints.map((c) => c.where)).toEqual(['w.jsonl:1', 'w.jsonl:3', 'w.jsonl:4']);
    expect(w.bad).toEqual([{ where: 'w.jsonl:2', reason: expect.stringContaining('not JSON') }]);
    expect(w.remarks).toEqual(['w.jsonl:5: last line is incomplete (a write cut short); ignored']);
    const clean = parseWitnessFile(`${log.witness}{"origin":"x","si`, 'w.jsonl');
    const r = verifyAudit({ checkpoints: clean.checkpoints, rows: log.rows, leaves: log.leaves, bad: clean.bad, remarks: clean.remarks }, { trustedKeys: [log.vkey] });
    expect(r.ok).toBe(true);
    expect(r.remarks[0]).toContain('incomplete');
  });
});
