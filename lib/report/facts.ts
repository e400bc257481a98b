/**
 * ReportFacts: everything the evidence report states for a period, built
 * from a read-only query connection. report.json is this object; report.html
 * renders it (html.ts). The console's Reports page calls the same builder.
 */
import { IN_PERIOD, runFigure, type Figure, type ReportQuery } from './figure.ts';
import { accessReviewSection, alertsSection, auditSection, changesSection, retentionSection, sourcesSection, volumesSection, type Period, type Section } from './sections.ts';

export const REPORT_FORMAT = 'trailhouse-evidence-report/1';

/** The verification of the audit trail for the period (done by the caller: `trailhouse verify`'s machinery). */
export interface IntegrityFacts {
  /** The command line that reproduces it (without credentials). */
  command: string;
  /** true: verified; false: something changed, removed or slipped in; absent with `unavailable`. */
  ok?: boolean;
  /** `N/M checkpoints valid, K/L rows valid`. */
  summary?: string;
  failures?: string[];
  remarks?: string[];
  unavailable?: string;
}

export interface ReportFacts {
  format: typeof REPORT_FORMAT;
  period: { from: string; to: string; fromNs: string; toNs: string };
  generatedAt: string;
  source: { endpoint: string; database: string; user: string };
  gapMinutes: number;
  /** The signing key's name, or null when written with --unsigned. */
  signedBy: string | null;
  integrity: IntegrityFacts;
  sections: Section[];
}

export interface ReportOptions extends Period {
  source: ReportFacts['source'];
  signedBy: string | null;
  integrity: IntegrityFacts;
  now?: Date;
}

/** Nanoseconds since the epoch → RFC 3339 UTC with nanoseconds. */
export function isoOfNs(ns: bigint): string {
  const ms = ns / 1_000_000n;
  const iso = new Date(Number(ms)).toISOString();
  return `${iso.slice(0, 19)}.${(((ns % 1_000_000_000n) + 1_000_000_000n) % 1_000_000_000n).toString().padStart(9, '0')}Z`;
}

/** The pipeline's own checks of its trail in the period (lib/audit/self-verify.ts): beside, not instead of, the verify run above. */
export const SELF_CHECKS_SQL = `SELECT toString(Timestamp, 'UTC') AS Time, Outcome, Details['summary'] AS Summary, Details['failures_listed'] AS Failures FROM audit_events
  WHERE Category = 'configuration' AND Action = 'integrity.verify' AND ${IN_PERIOD} ORDER BY Timestamp LIMIT 1000`;

async function integritySection(q: ReportQuery, p: Period, i: IntegrityFacts): Promise<Section> {
  const notes: string[] = [];
  if (i.unavailable) notes.push(`not available: ${i.unavailable}`);
  else {
    notes.push(i.ok ? `verified: nothing changed, removed or slipped in (${i.summary})` : `FAILED: ${i.summary}`);
    for (const f of i.failures ?? []) notes.push(`failure: ${f}`);
    for (const r of i.remarks ?? []) notes.push(`note: ${r}`);
  }
  notes.push(`re-run: ${i.command}`);
  const selfChecks = await runFigure(q, {
    id: 'integrity.self_checks',
    title: "The pipeline's self-checks in the period",
    sql: SELF_CHECKS_SQL,
    params: { from: String(p.fromNs), to: String(p.toNs) },
    note: 'The pipeline verifying its own trail with its own keys and witness file (integrity.self_verify): it catches tampering through the store, not by whoever owns its host; the verify run above is the independent check.',
  });
  return { id: 'integrity', title: 'Integrity of the audit trail', criteria: ['CC7.2', 'PI1.5'], about: 'Every audit row of the period recomputed against the signed Merkle checkpoints (trailhouse verify).', figures: [selfChecks], notes };
}

/** Throws when the period is not a valid half-open interval. */
export function checkPeriod(p: Period): void {
  if (p.fromNs >= p.toNs) throw new Error(`the period is empty: --from (${isoOfNs(p.fromNs)}) is not before --to (${isoOfNs(p.toNs)})`);
  if (!Number.isInteger(p.gapMinutes) || p.gapMinutes < 1) throw new Error(`the gap threshold is ${p.gapMinutes} minutes: give whole minutes, at least 1`);
}

export async function buildReportFacts(q: ReportQuery, o: ReportOptions): Promise<ReportFacts> {
  checkPeriod(o);
  const sections: Section[] = [];
  // One after another: the query interface runs few queries at a time per user.
  for (const build of [sourcesSection, volumesSection, auditSection, changesSection, alertsSection]) sections.push(await build(q, o));
  sections.push(await integritySection(q, o, o.integrity));
  sections.push(await retentionSection(q, o));
  sections.push(await accessReviewSection(q, o));
  return {
    format: REPORT_FORMAT,
    period: { from: isoOfNs(o.fromNs), to: isoOfNs(o.toNs), fromNs: String(o.fromNs), toNs: String(o.toNs) },
    generatedAt: (o.now ?? new Date()).toISOString(),
    source: o.source,
    gapMinutes: o.gapMinutes,
    signedBy: o.signedBy,
    integrity: o.integrity,
    sections,
  };
}

/** A figure by id, across sections. */
export function figureOf(facts: ReportFacts, id: string): Figure | undefined {
  for (const s of facts.sections) for (const f of s.figures) if (f.id === id) return f;
  return undefined;
}
