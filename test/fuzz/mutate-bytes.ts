/**
 * Format-blind mutations of a byte string: bit and byte flips, interesting
 * integers, truncation, insertion / deletion / duplication of ranges, and
 * splicing two seeds. Each returns a new buffer; `cap` bounds the growth.
 */
import type { Prng } from './prng.ts';

export const CAP = 256 * 1024;

const INTERESTING8 = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x0a, 0x12, 0x22, 0x5b, 0x7b, 0x0c, 0x0f];
const INTERESTING32 = [0, 1, -1, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, -0x80000000, 0x10000, 65_000];

function clampRange(rng: Prng, len: number): [number, number] {
  if (len === 0) return [0, 0];
  const start = rng.int(len);
  const n = 1 + rng.small(Math.min(len - start, 4096) - 1);
  return [start, start + n];
}

export type ByteMutation = (rng: Prng, b: Buffer, other: Buffer) => Buffer;

export const byteMutations: Record<string, ByteMutation> = {
  bitflip(rng, b) {
    if (b.length === 0) return b;
    const out = Buffer.from(b);
    for (let i = rng.range(1, 8); i > 0; i--) out[rng.int(out.length)]! ^= 1 << rng.int(8);
    return out;
  },
  byteset(rng, b) {
    if (b.length === 0) return rng.bytes(1);
    const out = Buffer.from(b);
    for (let i = rng.range(1, 4); i > 0; i--) out[rng.int(out.length)] = rng.chance(0.5) ? rng.pick(INTERESTING8) : rng.int(256);
    return out;
  },
  int32(rng, b) {
    if (b.length < 4) return b;
    const out = Buffer.from(b);
    const v = rng.pick(INTERESTING32);
    const at = rng.int(out.length - 3);
    if (rng.chance(0.5)) out.writeInt32BE(v | 0, at);
    else out.writeInt32LE(v | 0, at);
    return out;
  },
  truncate(rng, b) {
    return b.subarray(0, rng.int(b.length));
  },
  insert(rng, b) {
    const at = rng.int(b.length + 1);
    const ins = rng.chance(0.5) ? rng.bytes(rng.range(1, 64)) : Buffer.alloc(rng.range(1, 64), rng.pick(INTERESTING8));
    return Buffer.concat([b.subarray(0, at), ins, b.subarray(at)]);
  },
  delete(rng, b) {
    const [s, e] = clampRange(rng, b.length);
    return Buffer.concat([b.subarray(0, s), b.subarray(e)]);
  },
  duplicate(rng, b) {
    const [s, e] = clampRange(rng, b.length);
    const times = rng.chance(0.8) ? 1 : rng.range(2, 64);
    const at = rng.int(b.length + 1);
    const parts = [b.subarray(0, at)];
    for (let i = 0; i < times && (e - s) * i < CAP; i++) parts.push(b.subarray(s, e));
    parts.push(b.subarray(at));
    return Buffer.concat(parts);
  },
  splice(rng, b, other) {
    return Buffer.concat([b.subarray(0, rng.int(b.length + 1)), other.subarray(rng.int(other.length + 1))]);
  },
};

const names = Object.keys(byteMutations);

/** One to `max` random generic mutations, stacked. */
export function mutateBytes(rng: Prng, b: Buffer, other: Buffer, log: string[], max = 3): Buffer {
  for (let i = rng.range(1, max); i > 0; i--) {
    const name = rng.pick(names);
    log.push(name);
    b = byteMutations[name]!(rng, b, other);
    if (b.length > CAP) b = b.subarray(0, CAP);
  }
  return b;
}
