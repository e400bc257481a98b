/**
 * Where a row and its leaf record disagree, the signed checkpoints decide
 * which is genuine. Disagreements are taken a checkpoint interval at a time:
 * those below the first signed size above them are decided together, by
 * rebuilding the tree from the first of them up to that size with each
 * combination of candidates (a handful in practice, capped) until the signed
 * root matches. Earlier decisions stand for later intervals, so the cost is
 * one pass over the log plus the combinations of each interval, not
 * combinations of the whole log.
 */
import type { CompactTree } from '../tlog/tree.ts';
import type { Ambiguity, OriginVerifier } from './verify-origin.ts';

/** Beyond this many combinations in one interval the leaf records are taken (every disagreement is still reported). */
const MAX_COMBINATIONS = 256;

export function decide(v: OriginVerifier): void {
  const end = Math.min(v.gapAt, v.next);
  const amb = v.ambiguities.filter((a) => a.candidates.length > 1 && a.index < end);
  if (!amb.length || !v.snapshot) return;
  const signedRoots = new Map<number, Buffer[]>();
  for (const c of v.checkpoints) if (c.signed) (signedRoots.get(c.size) ?? signedRoots.set(c.size, []).get(c.size)!).push(c.root);
  const signedSizes = [...signedRoots.keys()].sort((a, b) => a - b);
  const matches = (size: number, root: Buffer | undefined) => root !== undefined && signedRoots.get(size)!.some((r) => r.equals(root));
  // Nothing to decide when the defaults (the leaf records) reproduce every signed root.
  if (signedSizes.every((s) => s <= amb[0]!.index || s > end || matches(s, v.roots.get(s)))) return;

  const tree = v.snapshot.clone();
  for (let g = 0; g < amb.length; ) {
    const start = amb[g]!.index;
    while (tree.size < start) tree.append(v.leafAt(tree.size));
    const target = signedSizes.find((s) => s > start && s <= end);
    let n = g;
    while (n < amb.length && (target === undefined || amb[n]!.index < target)) n++;
    const group = amb.slice(g, n);
    g = n;
    if (target === undefined) break; // beyond every signed checkpoint: nothing to decide by
    let combos = 1;
    for (const a of group) combos *= a.candidates.length;
    if (combos > MAX_COMBINATIONS || matches(target, rootWith(tree, v, group, group.map(() => 0), target))) continue;
    for (let k = 1; k < combos; k++) {
      const choice = digits(k, group);
      if (matches(target, rootWith(tree, v, group, choice, target))) {
        group.forEach((a, j) => {
          a.chosen = choice[j]!;
          a.candidates[a.chosen]!.leaf.copy(v.leaves, 32 * a.index);
        });
        break;
      }
    }
  }
  // The roots again, with what was decided.
  const t = v.snapshot.clone();
  for (let s = v.sizes.findIndex((x) => x > t.size); s >= 0 && s < v.sizes.length && v.sizes[s]! <= end; s++) {
    while (t.size < v.sizes[s]!) t.append(v.leafAt(t.size));
    v.roots.set(t.size, t.root());
  }
}

/** Combination number k as one candidate index per ambiguity (mixed radix). */
function digits(k: number, group: readonly Ambiguity[]): number[] {
  return group.map((a) => {
    const d = k % a.candidates.length;
    k = Math.floor(k / a.candidates.length);
    return d;
  });
}

/** The root at `size` of `tree` (at the group's first index) continued with the group's chosen candidates. */
function rootWith(tree: CompactTree, v: OriginVerifier, group: readonly Ambiguity[], choice: readonly number[], size: number): Buffer {
  const t = tree.clone();
  const over = new Map<number, Buffer>(group.map((a, j) => [a.index, a.candidates[choice[j]!]!.leaf]));
  while (t.size < size) t.append(over.get(t.size) ?? v.leafAt(t.size));
  return t.root();
}
