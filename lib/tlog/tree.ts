/**
 * The RFC 9162 Merkle tree: its root (MTH, §2.1.1), inclusion proofs (§2.1.3)
 * and consistency proofs (§2.1.4), plus a compact tree that keeps only the
 * right edge (the roots of the perfect subtrees) so a log can grow forever in
 * O(log n) memory.
 *
 * Sizes and indexes are JavaScript numbers below 2^53: the code uses
 * arithmetic (% 2, / 2), never the 32-bit bitwise operators.
 * Verifiers return false for any input they cannot vouch for (bad sizes,
 * hashes of the wrong length, proofs of the wrong length); they never throw.
 */
import { EMPTY_ROOT, isHash, nodeHash, nodeHashLatin1, sameBytes } from './hash.ts';

/** A proof for a tree below 2^53 leaves never has more hashes than this. */
const MAX_PROOF = 64;

const isSize = (n: unknown): n is number => Number.isSafeInteger(n) && (n as number) >= 0;

/** Number of 1 bits of a size: how many perfect subtrees a tree of that size has. */
export function popcount(n: number): number {
  let c = 0;
  for (let x = n; x > 0; x = Math.floor(x / 2)) c += x % 2;
  return c;
}

/** The largest power of two strictly below n (n >= 2): where MTH splits a range. */
function split(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

function isPowerOfTwo(n: number): boolean {
  if (n < 1) return false;
  let x = n;
  while (x % 2 === 0) x /= 2;
  return x === 1;
}

/**
 * The right edge of a tree: the roots of its perfect subtrees, largest first
 * (one per 1 bit of the size). append() merges equal-sized subtrees as a
 * binary counter carries; root() folds the edge right to left.
 */
export class CompactTree {
  #size: number;
  /**
   * The edge as 32-character latin1 strings (one char per byte): the tree
   * hashes one node per leaf on average, and node:crypto returns a string
   * for a fraction of what a Buffer costs (nodeHashLatin1).
   */
  #nodes: string[];

  constructor(size = 0, frontier: readonly Buffer[] = []) {
    if (!isSize(size)) throw new RangeError(`CompactTree: size must be a non-negative safe integer (got ${String(size)})`);
    if (!Array.isArray(frontier) || frontier.length !== popcount(size)) {
      throw new RangeError(`CompactTree: a tree of size ${size} has ${popcount(size)} frontier hashes, got ${Array.isArray(frontier) ? frontier.length : 'none'}`);
    }
    this.#nodes = frontier.map((h, i) => {
      if (!isHash(h)) throw new RangeError(`CompactTree: frontier[${i}] is not a 32-byte hash`);
      return Buffer.from(h).toString('latin1');
    });
    this.#size = size;
  }

  get size(): number {
    return this.#size;
  }

  /** Adds one leaf hash (a leafHash() output). */
  append(leaf: Buffer): void {
    if (!isHash(leaf)) throw new RangeError('CompactTree.append: a leaf must be a 32-byte hash');
    this.#push(Buffer.from(leaf).toString('latin1'));
  }

  /** append() for a leaf hash given as a 32-character latin1 string (the per-row path of a log). */
  appendLatin1(leaf: string): void {
    if (typeof leaf !== 'string' || leaf.length !== 32 || !LATIN1.test(leaf)) throw new RangeError('CompactTree.appendLatin1: a leaf must be 32 latin1 characters');
    this.#push(leaf);
  }

  #push(leaf: string): void {
    let s = this.#size;
    if (s >= Number.MAX_SAFE_INTEGER) throw new RangeError('CompactTree.append: the tree is full (2^53 - 1 leaves)');
    let h = leaf;
    while (s % 2 === 1) {
      h = nodeHashLatin1(this.#nodes.pop()!, h);
      s = (s - 1) / 2;
    }
    this.#nodes.push(h);
    this.#size++;
  }

  /** MTH of all leaves so far; EMPTY_ROOT when there are none. A fresh buffer. */
  root(): Buffer {
    const n = this.#nodes;
    if (n.length === 0) return Buffer.from(EMPTY_ROOT);
    let r = n[n.length - 1]!;
    for (let i = n.length - 2; i >= 0; i--) r = nodeHashLatin1(n[i]!, r);
    return Buffer.from(r, 'latin1');
  }

  /** Copies of the perfect-subtree roots, largest first (what a checkpoint stores to resume). */
  frontier(): Buffer[] {
    return this.#nodes.map((h) => Buffer.from(h, 'latin1'));
  }

  clone(): CompactTree {
    return new CompactTree(this.#size, this.frontier());
  }
}

 
const LATIN1 = /^[\x00-\xff]*$/;

function checkRange(what: string, leaves: readonly Buffer[], start: number, end: number): void {
  if (!Array.isArray(leaves)) throw new TypeError(`${what}: leaves must be an array of 32-byte hashes`);
  if (!isSize(start) || !isSize(end) || start > end || end > leaves.length) {
    throw new RangeError(`${what}: range [${String(start)}, ${String(end)}) is not within the ${leaves.length} leaves`);
  }
}

/** MTH(leaves[start:end]) (RFC 9162 §2.1.1); EMPTY_ROOT for an empty range. */
export function rootOf(leaves: readonly Buffer[], start = 0, end = leaves.length): Buffer {
  checkRange('rootOf', leaves, start, end);
  // Appending to a compact tree computes exactly MTH's left-heavy split.
  const t = new CompactTree();
  for (let i = start; i < end; i++) t.append(leaves[i]);
  return t.root();
}

/** PATH(index, D[size]) of RFC 9162 §2.1.3.1: the sibling hashes from the leaf up. */
export function inclusionProof(index: number, size: number, leaves: readonly Buffer[]): Buffer[] {
  checkRange('inclusionProof', leaves, 0, size);
  if (!isSize(index) || index >= size) throw new RangeError(`inclusionProof: index ${String(index)} is not below the tree size ${size}`);
  const path: Buffer[] = [];
  let lo = 0;
  let hi = size;
  while (hi - lo > 1) {
    const k = split(hi - lo);
    if (index < lo + k) {
      path.push(rootOf(leaves, lo + k, hi));
      hi = lo + k;
    } else {
      path.push(rootOf(leaves, lo, lo + k));
      lo += k;
    }
  }
  return path.reverse();
}

/** RFC 9162 §2.1.3.2: does `proof` show `leaf` at `index` in the tree of `size` with `root`? */
export function verifyInclusion(index: number, size: number, leaf: Buffer, proof: readonly Buffer[], root: Buffer): boolean {
  if (!isSize(index) || !isSize(size) || index >= size) return false;
  if (!isHash(leaf) || !isHash(root) || !Array.isArray(proof) || proof.length > MAX_PROOF) return false;
  for (const p of proof) if (!isHash(p)) return false;
  let fn = index;
  let sn = size - 1;
  let r: Buffer = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && sameBytes(r, root);
}

/**
 * PROOF(m, D[n]) of RFC 9162 §2.1.4.1: the hashes that show the tree of size m
 * is a prefix of the tree of size n. Empty when m is 0 or m equals n.
 */
export function consistencyProof(m: number, n: number, leaves: readonly Buffer[]): Buffer[] {
  checkRange('consistencyProof', leaves, 0, n);
  if (!isSize(m) || m > n) throw new RangeError(`consistencyProof: old size ${String(m)} is larger than the new size ${n}`);
  if (m === 0 || m === n) return [];
  const out: Buffer[] = [];
  let lo = 0;
  let hi = n;
  let whole = true; // SUBPROOF's b: the old tree is still the whole left part so far
  while (m !== hi) {
    const k = split(hi - lo);
    if (m - lo <= k) {
      out.push(rootOf(leaves, lo + k, hi));
      hi = lo + k;
    } else {
      out.push(rootOf(leaves, lo, lo + k));
      lo += k;
      whole = false;
    }
  }
  if (!whole) out.push(rootOf(leaves, lo, hi));
  return out.reverse();
}

/**
 * RFC 9162 §2.1.4.2: does `proof` show the tree of size m with `rootM` is a
 * prefix of the tree of size n with `rootN`? m = n needs an empty proof and
 * equal roots; m = 0 needs an empty proof and rootM = EMPTY_ROOT.
 */
export function verifyConsistency(m: number, n: number, rootM: Buffer, rootN: Buffer, proof: readonly Buffer[]): boolean {
  if (!isSize(m) || !isSize(n) || m > n) return false;
  if (!isHash(rootM) || !isHash(rootN) || !Array.isArray(proof) || proof.length > MAX_PROOF) return false;
  for (const p of proof) if (!isHash(p)) return false;
  if (m === n) return proof.length === 0 && sameBytes(rootM, rootN) && (m > 0 || sameBytes(rootM, EMPTY_ROOT));
  if (m === 0) return proof.length === 0 && sameBytes(rootM, EMPTY_ROOT);
  if (proof.length === 0) return false;
  // When m is a power of two the old root is itself a node of the new tree and
  // the proof leaves it out: start from it.
  const path = isPowerOfTwo(m) ? [rootM, ...proof] : proof;
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  let fr = path[0];
  let sr = path[0];
  for (let i = 1; i < path.length; i++) {
    const c = path[i];
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && sameBytes(fr, rootM) && sameBytes(sr, rootN);
}
