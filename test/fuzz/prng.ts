/**
 * The fuzzer's own deterministic PRNG (mulberry32) and the derivation of a
 * case's seed from the run seed and its index, so any one case can be
 * replayed alone (`npm run fuzz -- --format F --replay <caseSeed>`).
 */
export class Prng {
  private s: number;
  constructor(seed: number) {
    this.s = seed | 0;
  }
  /** Uniform 32-bit unsigned integer. */
  u32(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) | 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }
  /** 0 ≤ x < n. */
  int(n: number): number {
    return n <= 0 ? 0 : Math.floor((this.u32() / 4294967296) * n);
  }
  /** lo ≤ x ≤ hi. */
  range(lo: number, hi: number): number {
    return lo + this.int(hi - lo + 1);
  }
  chance(p: number): boolean {
    return this.u32() / 4294967296 < p;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.int(xs.length)]!;
  }
  /** Small numbers much more often than large ones (lengths, counts). */
  small(max: number): number {
    const bits = this.int(Math.max(1, Math.ceil(Math.log2(max + 1))) + 1);
    return Math.min(max, this.int(2 ** bits));
  }
  bytes(n: number): Buffer {
    const b = Buffer.allocUnsafe(n);
    for (let i = 0; i < n; i++) b[i] = this.int(256);
    return b;
  }
}

/** The seed of case `index` of a run seeded with `runSeed` (splitmix-style mixing). */
export function caseSeed(runSeed: number, index: number): number {
  let z = (runSeed ^ Math.imul(index + 1, 0x9e3779b9)) | 0;
  z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

export const hex32 = (n: number) => '0x' + (n >>> 0).toString(16).padStart(8, '0');
