import { describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { EMPTY_ROOT, leafHash, nodeHash } from './hash.ts';
import { CompactTree, consistencyProof, inclusionProof, popcount, rootOf, verifyConsistency, verifyInclusion } from './tree.ts';

// Known answers: the RFC 6962 test tree used by Certificate Transparency
// implementations, as data from transparency-dev/merkle proof/verify_test.go
// (github.com/transparency-dev/merkle, Apache-2.0; the same vectors appear in
// google/certificate-transparency-go's merkletree tests). Inclusion entries
// there count leaves from 1; here indexes count from 0.
const ENTRIES = ['', '00', '10', '2021', '3031', '40414243', '5051525354555657', '606162636465666768696a6b6c6d6e6f'];
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];
const INCLUSION: [index: number, size: number, proof: string[]][] = [
  [0, 1, []],
  [0, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [5, 8, ['bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 3, ['fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125']],
  [1, 5, ['6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
];
const CONSISTENCY: [m: number, n: number, proof: string[]][] = [
  [1, 1, []],
  [1, 8, ['96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7', '5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', '6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4']],
  [6, 8, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
  [2, 5, ['5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e', 'bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b']],
  [6, 7, ['0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a', 'b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f', 'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7']],
];

const hx = (s: string): Buffer => Buffer.from(s, 'hex');
const hexes = (bs: Buffer[]): string[] => bs.map((b) => b.toString('hex'));
const KAT = ENTRIES.map((e) => leafHash(hx(e)));
const flip = (b: Buffer, bit: number): Buffer => {
  const c = Buffer.from(b);
  c[bit >> 3] ^= 1 << (bit & 7);
  return c;
};
/** Leaf hashes of n distinct entries. */
const leavesOf = (n: number): Buffer[] => Array.from({ length: n }, (_, i) => leafHash(Buffer.from(`entry ${i}`)));

describe('RFC 9162 hashing and roots: known answers', () => {
  it('empty root, leaf and node hashing', () => {
    expect(EMPTY_ROOT.toString('hex')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(rootOf([])).toEqual(EMPTY_ROOT);
    expect(new CompactTree().root()).toEqual(EMPTY_ROOT);
    expect(KAT[0].toString('hex')).toBe(ROOTS[0]); // MTH of one leaf is its leaf hash
    expect(nodeHash(KAT[0], KAT[1]).toString('hex')).toBe(ROOTS[1]);
    // leafHash of a big entry (the two-part path) is still SHA-256(0x00 ‖ entry)
    // Entries past the scratch buffer (grown, then hashed in two parts) hash the same way.
    for (const size of [4095, 4096, 10_000, 65_535, 100_000]) {
      const big = Buffer.alloc(size, size % 251);
      expect(leafHash(big), `${size} bytes`).toEqual(createHash('sha256').update(Buffer.from([0])).update(big).digest());
    }
    expect(leafHash(Buffer.from('00', 'hex'))).toEqual(KAT[1]); // and small ones still do after the growth
    expect(() => nodeHash(Buffer.alloc(31), KAT[0])).toThrow(RangeError);
  });

  it('roots at every size 1..8, by rootOf and by CompactTree', () => {
    const t = new CompactTree();
    for (let n = 1; n <= 8; n++) {
      expect(rootOf(KAT, 0, n).toString('hex'), `size ${n}`).toBe(ROOTS[n - 1]);
      t.append(KAT[n - 1]);
      expect(t.size).toBe(n);
      expect(t.root().toString('hex'), `compact size ${n}`).toBe(ROOTS[n - 1]);
      expect(t.frontier()).toHaveLength(popcount(n));
    }
  });

  it('inclusion proofs: generated as published, and verified', () => {
    for (const [i, n, proof] of INCLUSION) {
      expect(hexes(inclusionProof(i, n, KAT)), `PATH(${i}, ${n})`).toEqual(proof);
      expect(verifyInclusion(i, n, KAT[i], proof.map(hx), hx(ROOTS[n - 1]))).toBe(true);
    }
  });

  it('consistency proofs: generated as published, and verified', () => {
    for (const [m, n, proof] of CONSISTENCY) {
      expect(hexes(consistencyProof(m, n, KAT)), `PROOF(${m}, ${n})`).toEqual(proof);
      expect(verifyConsistency(m, n, hx(ROOTS[m - 1]), hx(ROOTS[n - 1]), proof.map(hx))).toBe(true);
    }
  });
});

describe('proof round trips and tampering, every size up to 64', () => {
  const N = 64;
  const leaves = leavesOf(N);
  const roots = Array.from({ length: N + 1 }, (_, n) => rootOf(leaves, 0, n));

  it('every (index, size): the proof verifies; any flipped bit, wrong index, size or length does not', () => {
    for (let n = 1; n <= N; n++) {
      for (let i = 0; i < n; i++) {
        const p = inclusionProof(i, n, leaves);
        expect(verifyInclusion(i, n, leaves[i], p, roots[n])).toBe(true);
        for (let k = 0; k < p.length; k++) {
          const bad = p.slice();
          bad[k] = flip(p[k], (i * 7 + k * 13) % 256);
          expect(verifyInclusion(i, n, leaves[i], bad, roots[n])).toBe(false);
        }
        expect(verifyInclusion(i, n, flip(leaves[i], i % 256), p, roots[n])).toBe(false);
        expect(verifyInclusion(i, n, leaves[i], p, flip(roots[n], n % 256))).toBe(false);
        expect(verifyInclusion(i, n, leaves[i], [...p, roots[n]], roots[n])).toBe(false);
        expect(verifyInclusion(i, n, leaves[i], [roots[n], ...p], roots[n])).toBe(false);
        if (p.length > 0) expect(verifyInclusion(i, n, leaves[i], p.slice(0, -1), roots[n])).toBe(false);
        if (n > 1) expect(verifyInclusion(i ^ 1, n, leaves[i], p, roots[n])).toBe(false);
        // A proof does not pin the size by itself (the signed checkpoint does):
        // sizes n and n + 1 can share a path shape. Doubling or halving cannot.
        expect(verifyInclusion(i, n * 2, leaves[i], p, roots[n])).toBe(false);
        if (i < n >> 1) expect(verifyInclusion(i, n >> 1, leaves[i], p, roots[n])).toBe(false);
        expect(verifyInclusion(n, n, leaves[i], p, roots[n])).toBe(false);
      }
    }
  });

  it('every (m, n), m <= n: the proof verifies; any flipped bit, swapped root or wrong length does not', () => {
    for (let n = 1; n <= N; n++) {
      for (let m = 1; m <= n; m++) {
        const p = consistencyProof(m, n, leaves);
        expect(verifyConsistency(m, n, roots[m], roots[n], p), `${m}->${n}`).toBe(true);
        if (m === n) {
          expect(p).toEqual([]);
          expect(verifyConsistency(m, n, roots[m], flip(roots[n], 3), p)).toBe(false);
          continue;
        }
        for (let k = 0; k < p.length; k++) {
          const bad = p.slice();
          bad[k] = flip(p[k], (m * 5 + k * 11) % 256);
          expect(verifyConsistency(m, n, roots[m], roots[n], bad)).toBe(false);
        }
        expect(verifyConsistency(m, n, flip(roots[m], m % 256), roots[n], p)).toBe(false);
        expect(verifyConsistency(m, n, roots[m], flip(roots[n], n % 256), p)).toBe(false);
        expect(verifyConsistency(m, n, roots[n], roots[m], p)).toBe(false);
        expect(verifyConsistency(m, n, roots[m], roots[n], [])).toBe(false);
        expect(verifyConsistency(m, n, roots[m], roots[n], p.slice(0, -1))).toBe(false);
        expect(verifyConsistency(m, n, roots[m], roots[n], [...p, roots[n]])).toBe(false);
        expect(verifyConsistency(m, n, roots[m], roots[n], [p[0], ...p])).toBe(false);
        if (m > 1) expect(verifyConsistency(m - 1, n, roots[m], roots[n], p)).toBe(false);
        expect(verifyConsistency(m, n * 2, roots[m], roots[n], p)).toBe(false);
        if (m <= n >> 1) expect(verifyConsistency(m, n >> 1, roots[m], roots[n], p)).toBe(false);
      }
    }
  });

  it('CompactTree: root and frontier match the full tree at every size; resumes from a frontier; clone is independent', () => {
    const t = new CompactTree();
    for (let n = 1; n <= N; n++) {
      t.append(leaves[n - 1]);
      expect(t.root()).toEqual(roots[n]);
      const resumed = new CompactTree(n, t.frontier());
      expect(resumed.root()).toEqual(roots[n]);
    }
    const c = t.clone();
    c.append(leafHash(Buffer.from('more')));
    expect(t.size).toBe(N);
    expect(t.root()).toEqual(roots[N]);
    expect(c.size).toBe(N + 1);
  });
});

describe('hostile input', () => {
  const leaves = leavesOf(8);
  const root = rootOf(leaves);
  const p = inclusionProof(3, 8, leaves);

  it('verifiers return false, never throw', () => {
    const junk: unknown[] = [-1, 1.5, NaN, Infinity, 2 ** 53, '3', null, undefined];
    for (const j of junk) {
      expect(verifyInclusion(j as number, 8, leaves[3], p, root)).toBe(false);
      expect(verifyInclusion(3, j as number, leaves[3], p, root)).toBe(false);
      expect(verifyConsistency(j as number, 8, root, root, [])).toBe(false);
      expect(verifyConsistency(4, j as number, root, root, [])).toBe(false);
    }
    expect(verifyInclusion(3, 8, Buffer.alloc(31), p, root)).toBe(false);
    expect(verifyInclusion(3, 8, leaves[3], p, Buffer.alloc(33))).toBe(false);
    expect(verifyInclusion(3, 8, leaves[3], [p[0], Buffer.alloc(0), p[2]], root)).toBe(false);
    expect(verifyInclusion(3, 8, leaves[3], 'x' as unknown as Buffer[], root)).toBe(false);
    expect(verifyInclusion(3, 8, leaves[3], [...p, ...Array.from({ length: 70 }, () => root)], root)).toBe(false);
    expect(verifyInclusion(0, 0, leaves[0], [], EMPTY_ROOT)).toBe(false); // index >= size
    expect(verifyConsistency(9, 8, root, root, [])).toBe(false); // m > n
    expect(verifyConsistency(0, 8, EMPTY_ROOT, root, [])).toBe(true); // the empty tree is a prefix of every tree
    expect(verifyConsistency(0, 8, root, root, [])).toBe(false); // ...but only with the empty root
    expect(verifyConsistency(0, 8, EMPTY_ROOT, root, [root])).toBe(false);
    expect(verifyConsistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])).toBe(true);
    expect(verifyConsistency(0, 0, root, root, [])).toBe(false);
  });

  it('generators and CompactTree throw RangeError on impossible arguments', () => {
    expect(() => inclusionProof(8, 8, leaves)).toThrow(RangeError);
    expect(() => inclusionProof(0, 9, leaves)).toThrow(RangeError);
    expect(() => consistencyProof(5, 4, leaves)).toThrow(RangeError);
    expect(() => consistencyProof(1, 9, leaves)).toThrow(RangeError);
    expect(() => rootOf(leaves, 5, 4)).toThrow(RangeError);
    expect(() => new CompactTree(3, [root])).toThrow(/2 frontier hashes/);
    expect(() => new CompactTree(-1)).toThrow(RangeError);
    expect(() => new CompactTree(1, [Buffer.alloc(16)])).toThrow(RangeError);
    expect(() => new CompactTree().append(Buffer.alloc(31))).toThrow(RangeError);
  });

  it('sizes beyond 2^32 use exact arithmetic (no 32-bit truncation)', () => {
    // A frontier for size 2^32 + 1 is two hashes; 32-bit arithmetic would see size 1.
    const t = new CompactTree(2 ** 32 + 1, [leaves[0], leaves[1]]);
    t.append(leaves[2]);
    expect(t.size).toBe(2 ** 32 + 2);
    expect(t.frontier()).toEqual([leaves[0], nodeHash(leaves[1], leaves[2])]);
    expect(t.root()).toEqual(nodeHash(leaves[0], nodeHash(leaves[1], leaves[2])));
  });
});
