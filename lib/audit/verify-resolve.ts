/**
 * After the checkpoints are judged: what each disagreement, missing row and
 * lone row of one origin means, as findings, and how many rows verify.
 *
 * witnessed = size of the newest validly signed checkpoint; verified = the
 * largest signed size whose root the stored leaves reproduce. A row below
 * `verified` is proven by that root (Merkle binding); a row at or above
 * `witnessed` is not yet covered by any checkpoint (reported, not a failure);
 * a row between is not proven.
 */
import { auditLeafHash } from './leaf.ts';
import type { OriginVerifier } from './verify-origin.ts';
import type { Finding, LeafRecord, StoredRow } from './verify-types.ts';

export function isoNs(ns: bigint): string {
  const iso = new Date(Number(ns / 1_000_000n)).toISOString();
  const frac = ((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n;
  return `${iso.slice(0, 19)}.${frac.toString().padStart(9, '0')}Z`;
}

/** The header fields (or `body`) in which a row differs from a leaf record. */
export function fieldDiff(row: StoredRow, body: Buffer, rec: LeafRecord): string {
  const d: string[] = [];
  if (row.timeNs !== rec.timeNs) d.push('Timestamp');
  if (row.category !== rec.category) d.push('Category');
  if (row.outcome !== rec.outcome) d.push('Outcome');
  if (row.service !== rec.service) d.push('ServiceName');
  if (!body.equals(rec.bodyHash)) d.push('body');
  return d.join(', ') || 'none';
}

export function resolveFindings(v: OriginVerifier, witnessed: number, verified: number): { valid: number; total: number; unwitnessed: number } {
  const origin = v.origin;
  const out = v.findings;
  let valid = 0;
  let total = 0;
  let unwitnessed = 0;
  const count = (i: number) => {
    total++;
    if (i < verified) valid++;
    else if (i >= witnessed) unwitnessed++;
  };
  for (let j = 0; j < v.goodCount; j++) count(v.goodIdx[j]!);
  const rowFinding = (kind: Finding['kind'], row: StoredRow, detail: string, field?: string) => {
    out.push({ kind, origin, index: row.index, eventId: `${origin}@${row.index}`, time: isoNs(row.timeNs), field, detail, failure: true });
  };
  const unproven = (i: number) => (i >= witnessed ? ' (not yet covered by a checkpoint, so which side is genuine is unknown)' : i >= verified ? ' (no checkpoint that verifies covers it)' : '');

  // Disagreements: the chosen candidate is what the checkpoints (or, failing them, the leaf record) say.
  const mismatched: { row: StoredRow; body: Buffer; index: number; against: LeafRecord | undefined; second: boolean }[] = [];
  const recAt = new Map<string, number>();
  for (const a of v.ambiguities) {
    const c = a.candidates[a.chosen]!;
    const i = a.index;
    if (c.recs[0]) recAt.set(`${c.recs[0].bodyHash.toString('hex')}:${c.recs[0].timeNs}`, i);
    c.rows.forEach((row, n) => {
      if (!v.inRange(row.timeNs)) return;
      if (n === 0) count(i);
      else {
        total++;
        rowFinding('inserted', row, `a second row at index ${i}, identical to the first`);
      }
    });
    for (const o of a.candidates) {
      if (o === c) continue;
      for (const rec of o.recs) {
        const t = rec.timeNs;
        if (!v.inRange(t)) continue;
        const base = { origin, index: i, eventId: `${origin}@${i}`, time: isoNs(t), field: 'leaf record', failure: true };
        if (!c.recs.length && c.rows.length && i < verified) {
          out.push({ ...base, kind: 'modified', detail: `its leaf record (the leaves table) was changed (${fieldDiff(c.rows[0]!, c.rowBodies[0]!, rec)} differs); the row matches the checkpoint` });
        } else out.push({ ...base, kind: 'inserted', detail: `a second leaf record (the leaves table) at index ${i}${unproven(i)}` });
      }
      o.rows.forEach((row, n) => {
        if (!v.inRange(row.timeNs)) return;
        total++;
        mismatched.push({ row, body: o.rowBodies[n]!, index: i, against: c.recs[0], second: c.rows.length > 0 });
      });
    }
  }
  for (const m of mismatched) {
    const key = `${m.body.toString('hex')}:${m.row.timeNs}`;
    const j = recAt.get(key);
    const r = m.row;
    if (j !== undefined && j !== m.index && auditLeafHash({ origin, index: j, timeNs: r.timeNs, category: r.category, outcome: r.outcome, service: r.service, bodyHash: m.body }).equals(v.leafAt(j))) {
      rowFinding('reordered', r, `the row stored at index ${m.index} is the one logged at index ${j} (its LogIndex was changed)`, 'LogIndex');
    } else if (m.second) {
      rowFinding('inserted', r, `a second row at index ${m.index}, not the one the log recorded${unproven(m.index)}`);
    } else if (m.against) {
      const field = fieldDiff(r, m.body, m.against);
      rowFinding('modified', r, `leaf hash differs at index ${m.index}: ${field} changed${unproven(m.index)}`, field);
    } else rowFinding('inserted', r, `a second row at index ${m.index}${unproven(m.index)}`);
  }

  for (const { row, leaf } of v.lonely) {
    if (!v.inRange(row.timeNs)) continue;
    total++;
    const i = row.index;
    if (i >= witnessed) rowFinding('inserted', row, `a row at index ${i}, beyond every checkpoint, without a leaf record`);
    else if (i < verified && leaf.equals(v.leafAt(i))) {
      valid++;
      rowFinding('deleted', row, `its leaf record (the leaves table) is missing; the row itself matches the checkpoint`, 'leaf record');
    } else rowFinding('inserted', row, `a row at index ${i} without a leaf record, and no checkpoint confirms it`);
  }

  for (const run of v.missing) {
    if (run.timeNs !== undefined && !v.inRange(run.timeNs)) continue;
    const n = run.end - run.start;
    const at = { origin, index: run.start, end: run.end, eventId: n === 1 ? `${origin}@${run.start}` : undefined, time: run.timeNs === undefined ? undefined : isoNs(run.timeNs) };
    const what = run.gap ? 'neither the row nor its leaf record is in the store' : 'the row is missing; its leaf record remains';
    const rows = n === 1 ? `index ${run.start}` : `indexes ${run.start}-${run.end - 1} (${n} rows)`;
    if (run.rule !== null) out.push({ ...at, kind: 'expired', rule: run.rule, detail: `${rows} expired under retention rule ${run.rule}`, failure: false });
    else if (run.start >= witnessed) out.push({ ...at, kind: 'deleted', detail: `${rows}: ${what} (not yet covered by a checkpoint)`, failure: true });
    else if (run.start > v.maxRowIndex) out.push({ ...at, kind: 'truncated', detail: `${rows}, the newest, are gone: ${what}; the checkpoint of size ${witnessed} covers them`, failure: true });
    else out.push({ ...at, kind: 'deleted', detail: `${rows}: ${what}`, failure: true });
  }

  if (witnessed > verified) {
    const why =
      v.gapAt < witnessed
        ? `index ${v.gapAt} has neither a row nor a leaf record, so no root from there on can be recomputed`
        : `the stored rows and leaf records agree with each other but not with the signed root: rewritten alike (or the checkpoint is not this log's)`;
    out.push({ kind: 'unverified', origin, index: verified, end: witnessed, detail: `indexes ${verified}-${witnessed - 1} are not proven by the checkpoint of size ${witnessed}: ${why}`, failure: true });
  }
  if (unwitnessed > 0) {
    // A log with no signed checkpoint at all proves nothing: a log name of one's own is the easiest way to slip rows in.
    const none = witnessed === 0;
    const detail = none
      ? `${unwitnessed} row(s) and no checkpoint of this log signed by a trusted key: a log younger than one checkpoint interval, or rows slipped in under a log name of their own`
      : `${unwitnessed} row(s) newer than the newest checkpoint (size ${witnessed}): not yet signed`;
    out.push({ kind: 'unwitnessed', origin, index: witnessed, end: v.next, detail, failure: none });
  }
  return { valid, total, unwitnessed };
}
