/**
 * JSON-aware mutations. The seed is parsed into a tree whose objects are
 * entry lists (so duplicate keys and `__proto__` keys survive) and whose
 * leaves may be raw bytes (invalid UTF-8, lone surrogate escapes, numbers
 * JSON.stringify cannot write, deep nesting); one or more nodes are replaced,
 * renamed, duplicated or dropped, and the tree is written back.
 */
import type { Prng } from './prng.ts';
import { CAP } from './mutate-bytes.ts';

type J = null | boolean | number | string | J[] | { o: Array<[string, J]> } | { raw: Buffer };

const isObj = (j: J): j is { o: Array<[string, J]> } => typeof j === 'object' && j !== null && !Array.isArray(j) && 'o' in j;

function toTree(v: unknown): J {
  if (Array.isArray(v)) return v.map(toTree);
  if (typeof v === 'object' && v !== null) return { o: Object.entries(v).map(([k, x]) => [k, toTree(x)]) };
  return v as J;
}

function clone(j: J): J {
  if (Array.isArray(j)) return j.map(clone);
  if (isObj(j)) return { o: j.o.map(([k, v]) => [k, clone(v)]) };
  return j;
}

function write(j: J, parts: Buffer[], budget = { left: 4 * CAP }): void {
  if (budget.left <= 0) return; // the result is cut to CAP anyway
  budget.left -= parts.length > 0 ? parts[parts.length - 1]!.length : 0;
  if (Array.isArray(j)) {
    parts.push(Buffer.from('['));
    j.forEach((x, i) => {
      if (i) parts.push(Buffer.from(','));
      write(x, parts, budget);
    });
    parts.push(Buffer.from(']'));
  } else if (isObj(j)) {
    parts.push(Buffer.from('{'));
    j.o.forEach(([k, x], i) => {
      parts.push(Buffer.from(`${i ? ',' : ''}${JSON.stringify(k)}:`));
      write(x, parts, budget);
    });
    parts.push(Buffer.from('}'));
  } else if (typeof j === 'object' && j !== null) parts.push(j.raw);
  else parts.push(Buffer.from(JSON.stringify(j)));
}

export const PROTO_NAMES = ['__proto__', 'constructor', 'prototype', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__', 'isPrototypeOf'];
const NUMBERS = ['1e400', '-1e400', '123456789012345678901234567890', '18446744073709551616', '18446744073709551615', '9007199254740993', '-9223372036854775809', '1.5', '-1', '-0', '1e-400', '1E2', '0.5e1', '4294967296', '2147483648'];
const BAD_UTF8 = [[0xff], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82], [0x80]];
const raw = (s: string | Buffer): J => ({ raw: Buffer.isBuffer(s) ? s : Buffer.from(s) });

function strMutant(rng: Prng, s: string): J {
  switch (rng.int(9)) {
    case 0: return s.slice(0, -1);
    case 1: return s + rng.pick(['g', '0', ' ', '\u0000']);
    case 2: return s.toUpperCase();
    case 3: return '0'.repeat(s.length);
    case 4: return '0x' + s;
    case 5: return 'x'.repeat(rng.pick([1000, 70_000]));
    case 6: return raw(Buffer.concat([Buffer.from('"' + s.slice(0, 3)), Buffer.from(rng.pick(BAD_UTF8)), Buffer.from('"')]));
    case 7: return raw(rng.pick(['"\\ud800"', '"\\udfff x"', '"a\\ud83d"', '"\\u0000"', '"\\uDC00\\uD800"']));
    default: return rng.pick(PROTO_NAMES);
  }
}

function deep(rng: Prng): J {
  const k = rng.pick([63, 64, 65, 200, 5000, 100_000]);
  return rng.chance(0.5) ? raw('['.repeat(k) + ']'.repeat(k)) : raw('{"a":'.repeat(k) + '1' + '}'.repeat(k));
}

function wrongType(rng: Prng): J {
  return rng.pick<J>([[], { o: [] }, 0, 1, -1, '', '1', true, false, null, 1.5, { o: [['a', 1]] }, ['x']]);
}

type Slot = { get(): J; set(v: J): void; entries?: Array<[string, J]>; index?: number; arr?: J[] };

function slots(root: { v: J }): Slot[] {
  const out: Slot[] = [{ get: () => root.v, set: (v) => (root.v = v) }];
  const visit = (j: J) => {
    if (Array.isArray(j)) {
      j.forEach((x, i) => {
        out.push({ get: () => j[i]!, set: (v) => (j[i] = v), arr: j, index: i });
        visit(x);
      });
    } else if (isObj(j)) {
      j.o.forEach((e, i) => {
        out.push({ get: () => e[1], set: (v) => (e[1] = v), entries: j.o, index: i });
        visit(e[1]);
      });
    }
  };
  visit(root.v);
  return out;
}

const jsonOps: Record<string, (rng: Prng, s: Slot, donor: J) => void> = {
  protoValue: (rng, s) => s.set(rng.pick(PROTO_NAMES)),
  protoKey(rng, s) {
    const v = s.get();
    if (isObj(v)) v.o.splice(rng.int(v.o.length + 1), 0, [rng.pick(PROTO_NAMES), rng.chance(0.5) ? { o: [['polluted', 'yes']] } : wrongType(rng)]);
    else if (s.entries) s.entries[s.index!]![0] = rng.pick(PROTO_NAMES);
  },
  number: (rng, s) => s.set(raw(rng.pick(NUMBERS))),
  deep: (rng, s) => s.set(deep(rng)),
  string(rng, s) {
    const v = s.get();
    s.set(typeof v === 'string' ? strMutant(rng, v) : strMutant(rng, 'abc'));
  },
  wrongType: (rng, s) => s.set(wrongType(rng)),
  duplicateKey(rng, s) {
    if (!s.entries) return;
    const [k, v] = s.entries[s.index!]!;
    s.entries.splice(s.index! + 1, 0, [k, rng.chance(0.5) ? v : wrongType(rng)]);
  },
  drop(_rng, s) {
    if (s.entries) s.entries.splice(s.index!, 1);
    else if (s.arr) s.arr.splice(s.index!, 1);
  },
  repeat(rng, s) {
    if (!s.arr) return;
    const one: Buffer[] = [];
    write(s.get(), one);
    const size = one.reduce((n, b) => n + b.length, 1);
    const n = Math.min(rng.pick([2, 100, 5000]), Math.max(1, Math.floor(CAP / size)));
    // Copies: a later mutation of one must not grow them all.
    s.arr.splice(s.index!, 0, ...Array.from({ length: n }, () => clone(s.get())));
  },
  donor: (_rng, s, donor) => s.set(clone(donor)), // a copy: the donor tree may by now be part of this one
  nullify: (_rng, s) => s.set(null),
};
const jsonOpNames = Object.keys(jsonOps);

/** 1..3 JSON-aware mutations of `seed` (spliced with nodes of `other`); null when the seed is not JSON. */
export function mutateJson(rng: Prng, seed: Buffer, other: Buffer, log: string[]): Buffer | null {
  let root: { v: J };
  let donors: Slot[];
  try {
    root = { v: toTree(JSON.parse(seed.toString('utf8'))) };
    donors = slots({ v: toTree(JSON.parse(other.toString('utf8'))) });
  } catch {
    return null;
  }
  for (let i = rng.range(1, 3); i > 0; i--) {
    const all = slots(root);
    const name = rng.pick(jsonOpNames);
    log.push(`json.${name}`);
    jsonOps[name]!(rng, rng.pick(all), rng.pick(donors).get());
  }
  const parts: Buffer[] = [];
  write(root.v, parts);
  const out = Buffer.concat(parts);
  if (rng.chance(0.05)) return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), out]); // a UTF-8 BOM
  return out.length > CAP ? out.subarray(0, CAP) : out;
}
