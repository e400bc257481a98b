/**
 * Reports the console generated, kept in memory for a few minutes under a
 * random id, so report.html, report.json and report.sig are downloaded from
 * one generation (the signature covers both files' bytes: files of two
 * renderings never verify together). Bounded: the oldest set goes first;
 * a set is served only to the user who generated it.
 */
import { randomBytes } from 'node:crypto';

export const REPORT_SET_FILES = ['report.html', 'report.json', 'report.sig'] as const;
export type ReportSetFile = (typeof REPORT_SET_FILES)[number];

export interface ReportSet {
  id: string;
  user: string;
  /** trailhouse-report-<from>-<to>. */
  name: string;
  period: { from: string; to: string };
  /** The signing key's name; null: unsigned (no report.sig). */
  signedBy: string | null;
  /** Why it is unsigned, for the page. */
  unsignedReason?: string;
  files: Partial<Record<ReportSetFile, Buffer>>;
  created: number;
}

export class ReportSets {
  private readonly sets = new Map<string, ReportSet>();

  constructor(private readonly max = 16, private readonly ttlMs = 15 * 60_000) {}

  add(s: Omit<ReportSet, 'id' | 'created'>, now = Date.now()): ReportSet {
    this.expire(now);
    while (this.sets.size >= this.max) this.sets.delete(this.sets.keys().next().value!);
    const set: ReportSet = { ...s, id: randomBytes(16).toString('hex'), created: now };
    this.sets.set(set.id, set);
    return set;
  }

  get(id: string, user: string, now = Date.now()): ReportSet | undefined {
    this.expire(now);
    const s = this.sets.get(id);
    return s && s.user === user ? s : undefined;
  }

  get keptMinutes(): number {
    return Math.round(this.ttlMs / 60_000);
  }

  private expire(now: number): void {
    for (const [id, s] of this.sets) {
      if (now - s.created < this.ttlMs) break; // insertion order is age order
      this.sets.delete(id);
    }
  }
}
