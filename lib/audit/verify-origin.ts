/**
 * One log (origin) of `verify`: rows and leaf records arrive in index order,
 * page by page; each index yields one leaf for the tree (the agreeing
 * row/record, else a candidate to decide later), the tree's roots are taken
 * at every checkpoint size, and only what disagrees is kept in memory.
 *
 * At an index where the row and its leaf record disagree, the checkpoints
 * decide which one is genuine: the tree is rebuilt from the first such index
 * with each combination of candidates (a handful in practice) and the one
 * that reproduces the most signed roots wins. That names the tampered side —
 * the row, or the leaf record.
 */
import { CompactTree } from '../tlog/tree.ts';
import { EMPTY_ROOT } from '../tlog/hash.ts';
import { hash } from 'node:crypto';
import { auditLeafHash, bodyHash, type BodyFields } from './leaf.ts';
import type { ParsedCheckpoint } from './verify-checkpoints.ts';
import { resolveFindings } from './verify-resolve.ts';
import { decide } from './verify-decide.ts';
import type { Finding, LeafRecord, StoredRow, VerifyOptions } from './verify-types.ts';

export interface Candidate {
  leaf: Buffer;
  rows: StoredRow[];
  /** Body hashes of `rows`, same order. */
  rowBodies: Buffer[];
  recs: LeafRecord[];
}

export interface Ambiguity {
  index: number;
  candidates: Candidate[];
  chosen: number;
}

/** A run of indexes with a leaf record (or nothing: `gap`) and no row. */
export interface MissingRun {
  start: number;
  end: number;
  rule: string | null;
  gap: boolean;
  timeNs?: bigint;
}

/** SHA-256 of the row's body: as the store computed it, of its encoding built from the store's bytes, or of its columns. */
export function rowBodyHash(r: StoredRow): Buffer {
  if (r.bodyHash) return r.bodyHash;
  return r.body ? hash('sha256', r.body, 'buffer') : bodyHash(r as BodyFields);
}

export class OriginVerifier {
  readonly findings: Finding[] = [];
  /** Indexes of in-range rows that matched their leaf record at feed time, ascending. */
  goodIdx = new Float64Array(1024);
  goodCount = 0;
  readonly ambiguities: Ambiguity[] = [];
  /** Rows with no leaf record at their index (one row only). */
  readonly lonely: { row: StoredRow; leaf: Buffer }[] = [];
  readonly missing: MissingRun[] = [];
  readonly roots = new Map<number, Buffer>();
  /** First index with neither row nor record: no root at or beyond it can be recomputed. */
  gapAt = Infinity;
  maxRowIndex = -1;
  next = 0;
  /** Leaf hashes by index (32 bytes each). */
  leaves = Buffer.alloc(32 * 1024);
  private tree = new CompactTree();
  /** The tree just before the first index where rows and records disagree. */
  snapshot: CompactTree | undefined;
  /** The checkpoint sizes, ascending, distinct. */
  readonly sizes: number[];
  private sizePos = 0;

  constructor(
    readonly origin: string,
    readonly checkpoints: readonly ParsedCheckpoint[],
    readonly opts: VerifyOptions,
  ) {
    this.sizes = [...new Set(checkpoints.map((c) => c.size))].sort((a, b) => a - b);
    if (this.sizes[0] === 0) {
      this.roots.set(0, EMPTY_ROOT);
      this.sizePos = 1;
    }
  }

  /** The largest checkpoint size: indexes below it must all be accounted for. */
  get maxSize(): number {
    return this.sizes.at(-1) ?? 0;
  }

  inRange(timeNs: bigint): boolean {
    return (this.opts.fromNs === undefined || timeNs >= this.opts.fromNs) && (this.opts.toNs === undefined || timeNs < this.opts.toNs);
  }

  leafAt(i: number): Buffer {
    return this.leaves.subarray(32 * i, 32 * i + 32);
  }

  /** Makes room for leaves up to `until`. */
  reserve(until: number): void {
    if (until <= this.leaves.length / 32) return;
    const grown = Buffer.alloc(32 * Math.max(until, (this.leaves.length / 32) * 2));
    this.leaves.copy(grown);
    this.leaves = grown;
  }

  /** Rows and records with next <= index < until, each sorted by index; covers [next, until). */
  feed(rows: readonly StoredRow[], recs: readonly LeafRecord[], until: number): void {
    this.reserve(until);
    let r = 0;
    let k = 0;
    const origin = this.origin;
    for (let i = this.next; i < until; i++) {
      const r0 = r;
      const k0 = k;
      while (r < rows.length && rows[r]!.index === i) r++;
      while (k < recs.length && recs[k]!.index === i) k++;
      if (r < rows.length && rows[r]!.index < i) throw new Error(`rows of ${origin} are not sorted by LogIndex (or below ${this.next})`);
      if (k < recs.length && recs[k]!.index < i) throw new Error(`leaf records of ${origin} are not sorted by LogIndex (or below ${this.next})`);
      this.place(i, this.index(i, rows.slice(r0, r), recs.slice(k0, k)));
    }
    if (r < rows.length || k < recs.length) throw new Error(`rows or leaf records of ${origin} at or beyond index ${until} in a page that ends there`);
    this.next = until;
  }

  /** The leaf at `i` from its rows and records (undefined: neither), noting what disagrees. */
  index(i: number, rows: StoredRow[], recs: LeafRecord[]): Buffer | undefined {
    const origin = this.origin;
    if (rows.length === 1 && recs.length === 1) {
      const row = rows[0]!;
      const rec = recs[0]!;
      const bh = rowBodyHash(row);
      this.maxRowIndex = i;
      if (row.timeNs === rec.timeNs && row.category === rec.category && row.outcome === rec.outcome && row.service === rec.service && bh.equals(rec.bodyHash)) {
        if (this.inRange(row.timeNs)) this.good(i);
        return auditLeafHash({ origin, index: i, timeNs: row.timeNs, category: row.category, outcome: row.outcome, service: row.service, bodyHash: bh });
      }
      return this.ambiguous(i, rows, recs, [bh]);
    }
    if (rows.length === 0 && recs.length === 1) {
      const rec = recs[0]!;
      this.missingRow(i, this.opts.expiredUnder?.(rec) ?? null, false, rec.timeNs);
      return auditLeafHash({ origin, index: i, timeNs: rec.timeNs, category: rec.category, outcome: rec.outcome, service: rec.service, bodyHash: rec.bodyHash });
    }
    if (rows.length === 1 && recs.length === 0) {
      const row = rows[0]!;
      const leaf = auditLeafHash({ origin, index: i, timeNs: row.timeNs, category: row.category, outcome: row.outcome, service: row.service, bodyHash: rowBodyHash(row) });
      this.lonely.push({ row, leaf });
      this.maxRowIndex = i;
      return leaf;
    }
    if (rows.length === 0 && recs.length === 0) {
      this.missingRow(i, null, true, undefined);
      return undefined;
    }
    if (rows.length) this.maxRowIndex = i;
    return this.ambiguous(i, rows, recs, []);
  }

  /** Puts the leaf at `i` (reserved) into the tree, taking the roots at checkpoint sizes; none = a gap. */
  place(i: number, leaf: Buffer | undefined): void {
    if (leaf) leaf.copy(this.leaves, 32 * i);
    else if (i < this.gapAt) this.gapAt = i;
    if (i < this.gapAt) {
      this.tree.append(leaf!);
      while (this.sizePos < this.sizes.length && this.sizes[this.sizePos] === i + 1) {
        this.roots.set(i + 1, this.tree.root());
        this.sizePos++;
      }
    }
  }

  /** place() for a leaf given as a 32-character latin1 string (the fast path: no Buffer per leaf). */
  placeLatin1(i: number, leaf: string): void {
    this.leaves.write(leaf, 32 * i, 32, 'latin1');
    if (i >= this.gapAt) return;
    this.tree.appendLatin1(leaf);
    while (this.sizePos < this.sizes.length && this.sizes[this.sizePos] === i + 1) {
      this.roots.set(i + 1, this.tree.root());
      this.sizePos++;
    }
  }

  /** A row at `i` that matched its leaf record (the fast path of verify-rowbinary.ts); its Timestamp (ns, Int64 little-endian) at `page[at]`, read only for a time range. */
  matched(i: number, page: Buffer, at: number): void {
    this.maxRowIndex = i;
    if ((this.opts.fromNs === undefined && this.opts.toNs === undefined) || this.inRange(page.readBigInt64LE(at))) this.good(i);
  }

  private good(i: number): void {
    if (this.goodCount === this.goodIdx.length) {
      const g = new Float64Array(this.goodIdx.length * 2);
      g.set(this.goodIdx);
      this.goodIdx = g;
    }
    this.goodIdx[this.goodCount++] = i;
  }

  private missingRow(i: number, rule: string | null, gap: boolean, timeNs: bigint | undefined): void {
    const last = this.missing.at(-1);
    if (last && last.end === i && last.rule === rule && last.gap === gap) last.end = i + 1;
    else this.missing.push({ start: i, end: i + 1, rule, gap, timeNs });
  }

  /** Rows and records at `i` that do not all agree: keep them, pick a default leaf for now. */
  private ambiguous(i: number, rows: StoredRow[], recs: LeafRecord[], bodies: Buffer[]): Buffer {
    const origin = this.origin;
    const candidates: Candidate[] = [];
    const add = (leaf: Buffer): Candidate => {
      let c = candidates.find((x) => x.leaf.equals(leaf));
      if (!c) candidates.push((c = { leaf, rows: [], rowBodies: [], recs: [] }));
      return c;
    };
    for (const rec of recs) add(auditLeafHash({ origin, index: i, timeNs: rec.timeNs, category: rec.category, outcome: rec.outcome, service: rec.service, bodyHash: rec.bodyHash })).recs.push(rec);
    rows.forEach((row, n) => {
      const bh = bodies[n] ?? rowBodyHash(row);
      const c = add(auditLeafHash({ origin, index: i, timeNs: row.timeNs, category: row.category, outcome: row.outcome, service: row.service, bodyHash: bh }));
      c.rows.push(row);
      c.rowBodies.push(bh);
    });
    // Default: the log's own record (the leaves table) when exactly one candidate has one.
    const withRec = candidates.filter((c) => c.recs.length > 0);
    if (withRec.length === 1) candidates.unshift(...candidates.splice(candidates.indexOf(withRec[0]!), 1));
    if (candidates.length > 1 && !this.snapshot) this.snapshot = this.gapAt > i ? this.tree.clone() : undefined;
    this.ambiguities.push({ index: i, candidates, chosen: 0 });
    return candidates[0]!.leaf;
  }

  /** Picks, at each disagreement, the candidate the signed roots agree with (verify-decide.ts). */
  decide(): void {
    decide(this);
  }

  /** Settles every row after the checkpoints have been judged. */
  finish(witnessedSize: number, verifiedSize: number): { valid: number; total: number; unwitnessed: number } {
    return resolveFindings(this, witnessedSize, verifiedSize);
  }
}
