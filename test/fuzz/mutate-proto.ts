/**
 * Protobuf-aware mutations. The input is parsed schema-blind into a tree of
 * fields (a length-delimited field whose bytes parse as a message gets
 * children); a mutation edits one node and the tree is written back with every
 * enclosing length recomputed, so the damage reaches deep into the message
 * instead of being caught by the outermost length check. Deliberate lies
 * (length overruns, overlong varints, wrong wire types) are kept as raw bytes.
 */
import type { Prng } from './prng.ts';
import { CAP } from './mutate-bytes.ts';

interface PNode {
  field: number;
  wt: number;
  /** Raw tag bytes (kept raw so an overlong encoding survives re-writing). */
  tag: Buffer;
  /** Raw length prefix overriding the computed one (a length lie). */
  lenRaw?: Buffer;
  /** VARINT / I64 / I32 value bytes, or a LEN field's bytes when not parsed as a message. */
  raw?: Buffer;
  children?: PNode[];
}

export function varint(n: number | bigint): Buffer {
  if (typeof n === 'number' && n >= 0 && n < 0x80) return Buffer.from([n]);
  if (typeof n === 'number' && n >= 0 && n < 0x4000) return Buffer.from([(n & 0x7f) | 0x80, n >> 7]);
  let v = BigInt.asUintN(64, BigInt(n));
  const out: number[] = [];
  while (v > 0x7fn) {
    out.push(Number(v & 0x7fn) | 0x80);
    v >>= 7n;
  }
  out.push(Number(v));
  return Buffer.from(out);
}

function readVarint(b: Buffer, pos: number, end: number): [bigint, number] | null {
  let v = 0n;
  for (let i = 0; i < 10; i++) {
    if (pos >= end) return null;
    const c = b[pos++]!;
    v |= BigInt(c & 0x7f) << BigInt(7 * i);
    if (c < 0x80) return [v, pos];
  }
  return null;
}

function parse(b: Buffer, start: number, end: number, depth: number): PNode[] | null {
  const out: PNode[] = [];
  let pos = start;
  while (pos < end) {
    const t = readVarint(b, pos, end);
    if (!t || t[0] === 0n || t[0] > 0xffffffffn) return null;
    const tag = b.subarray(pos, t[1]);
    pos = t[1];
    const field = Number(t[0] >> 3n);
    const wt = Number(t[0] & 7n);
    if (wt === 0) {
      const v = readVarint(b, pos, end);
      if (!v) return null;
      out.push({ field, wt, tag, raw: b.subarray(pos, v[1]) });
      pos = v[1];
    } else if (wt === 1 || wt === 5) {
      const n = wt === 1 ? 8 : 4;
      if (pos + n > end) return null;
      out.push({ field, wt, tag, raw: b.subarray(pos, pos + n) });
      pos += n;
    } else if (wt === 2) {
      const l = readVarint(b, pos, end);
      if (!l || l[1] + Number(l[0]) > end) return null;
      const vs = l[1];
      const ve = vs + Number(l[0]);
      const kids = depth < 200 && ve > vs ? parse(b, vs, ve, depth + 1) : null;
      out.push(kids ? { field, wt, tag, children: kids } : { field, wt, tag, raw: b.subarray(vs, ve) });
      pos = ve;
    } else return null;
  }
  return out;
}

function write(nodes: PNode[], parts: Buffer[]): number {
  let n = 0;
  for (const x of nodes) {
    if (n > 4 * CAP) break; // the result is cut to CAP anyway
    parts.push(x.tag);
    n += x.tag.length;
    if (x.wt === -1) continue; // an opaque blob (hugeRepeated)
    if (x.wt === 2 || x.children) {
      const sub: Buffer[] = [];
      const len = x.children ? write(x.children, sub) : x.raw!.length;
      const prefix = x.lenRaw ?? varint(len);
      parts.push(prefix);
      if (x.children) for (const p of sub) parts.push(p); // no spread: a huge repeated field overflows the stack
      else parts.push(x.raw!);
      n += prefix.length + len;
    } else {
      parts.push(x.raw!);
      n += x.raw!.length;
    }
  }
  return n;
}

export function serialize(nodes: PNode[]): Buffer {
  const parts: Buffer[] = [];
  write(nodes, parts);
  return Buffer.concat(parts);
}

function clone(nodes: PNode[]): PNode[] {
  return nodes.map((n) => ({ ...n, children: n.children && clone(n.children) }));
}

/** Every node with its containing list, depth first. */
function flatten(nodes: PNode[], out: Array<{ node: PNode; list: PNode[] }> = []) {
  for (const node of nodes) {
    if (node.wt === -1) continue;
    out.push({ node, list: nodes });
    if (node.children) flatten(node.children, out);
  }
  return out;
}

const tagOf = (field: number, wt: number) => varint((BigInt(field) << 3n) | BigInt(wt));
const OVERLONG = [
  Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // 11 bytes
  Buffer.from([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]), // 2^64-1
  Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00]), // overlong zero
  Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f]), // 2^32-1
  Buffer.from([0xff, 0xff, 0xff, 0xff, 0x07]), // 2^31-1
  Buffer.from([0x80, 0x80, 0x80, 0x80, 0x80]), // truncated mid-varint
];

/** An OTLP AnyValue nested `depth` deep (array_value → values → …), bytes only. */
export function deepAnyValue(depth: number, kvlist: boolean): Buffer {
  let v = Buffer.from([0x0a, 0x01, 0x78]); // string_value "x"
  for (let i = 0; i < depth; i++) {
    // ArrayValue.values = 1, or KeyValueList.values = 1 holding KeyValue{key=1,"k"; value=2}
    const inner = kvlist ? Buffer.concat([Buffer.from([0x0a, 0x01, 0x6b, 0x12]), varint(v.length), v]) : v;
    const list = Buffer.concat([Buffer.from([0x0a]), varint(inner.length), inner]);
    v = Buffer.concat([Buffer.from([kvlist ? 0x32 : 0x2a]), varint(list.length), list]);
  }
  return v;
}

type Pick = { node: PNode; list: PNode[] };
const protoOps: Record<string, (rng: Prng, p: Pick, all: Pick[]) => void> = {
  varintOverflow(rng, { node }) {
    const bad = rng.pick(OVERLONG);
    if (node.wt === 0 && rng.chance(0.5)) node.raw = bad;
    else if (node.wt === 2 && rng.chance(0.6)) node.lenRaw = bad;
    else node.tag = bad;
  },
  lengthOverrun(rng, { node }) {
    if (node.wt !== 2) return;
    const len = node.children ? serialize(node.children).length : node.raw!.length;
    node.lenRaw = varint(rng.pick([len + 1, len + 1 + rng.int(1000), 0x7fffffff, 0xffffffff, 2 ** 53, -1]));
  },
  lengthUnderrun(rng, { node }) {
    if (node.wt !== 2) return;
    const len = node.children ? serialize(node.children).length : node.raw!.length;
    node.lenRaw = varint(rng.int(len));
  },
  wrongWireType(rng, { node }) {
    node.tag = tagOf(node.field, (node.wt + rng.range(1, 7)) % 8);
  },
  fieldNumber(rng, { node }) {
    node.tag = tagOf(rng.pick([0, 1, 2, 3, 5, 15, 16, 19000, 536870911, rng.range(1, 40)]), node.wt);
  },
  deepNesting(rng, { node, list }) {
    // Self-nesting: the node inside a copy of itself, k levels.
    const k = rng.pick([10, 64, 65, 100, 1000]);
    let cur: PNode = node;
    for (let i = 0; i < k; i++) cur = { field: node.field, wt: 2, tag: tagOf(node.field, 2), children: [cur] };
    list[list.indexOf(node)] = cur;
  },
  deepAnyValue(rng, { node }) {
    if (!node.children) return;
    // A KeyValue whose value nests `depth` deep, added next to the message's existing LEN fields (often its attributes).
    const lenFields = node.children.filter((c) => c.wt === 2).map((c) => c.field);
    const field = lenFields.length > 0 ? rng.pick(lenFields) : 1;
    const kv = Buffer.concat([Buffer.from([0x0a, 0x04, 0x64, 0x65, 0x65, 0x70, 0x12]), (() => {
      const v = deepAnyValue(rng.pick([63, 64, 65, 200, 4000]), rng.chance(0.5));
      return Buffer.concat([varint(v.length), v]);
    })()]);
    node.children.push({ field, wt: 2, tag: tagOf(field, 2), raw: kv });
  },
  hugeRepeated(rng, { node, list }) {
    // The field n times in a row, kept as one opaque blob (wt -1) so later mutations stay cheap.
    const one = serialize([node]);
    const n = Math.min(rng.pick([2, 100, 1000, 10_000, 100_000]), Math.floor(CAP / Math.max(1, one.length)));
    list[list.indexOf(node)] = { field: node.field, wt: -1, tag: Buffer.concat(Array.from({ length: Math.max(1, n) }, () => one)) };
  },
  drop(_rng, { node, list }) {
    list.splice(list.indexOf(node), 1);
  },
  replaceValue(rng, { node }, all) {
    const donor = rng.pick(all).node;
    node.children = donor.children && clone(donor.children); // a copy: the donor may be this node's ancestor
    node.raw = donor.raw ?? (donor.children ? undefined : rng.bytes(rng.small(40)));
    node.wt = donor.wt === 2 && node.wt === 2 ? 2 : node.wt;
    if (node.wt !== 2 && !node.raw) node.raw = varint(rng.u32());
    if (node.wt !== 2) node.children = undefined;
  },
  stringBytes(rng, { node }) {
    // Invalid UTF-8, lone surrogates (CESU), NULs, and a long run in a string/bytes field.
    if (node.wt !== 2 || node.children) return;
    node.raw = rng.pick([
      Buffer.from([0xff, 0xfe]),
      Buffer.from([0xc0, 0x80]),
      Buffer.from([0xed, 0xa0, 0x80]),
      Buffer.from([0xf4, 0x90, 0x80, 0x80]),
      Buffer.from('a\u0000b'),
      Buffer.alloc(rng.pick([16, 17, 7, 9, 33, 70_000]), 0x41),
      Buffer.alloc(0),
    ]);
  },
};
const protoOpNames = Object.keys(protoOps);

/** Parses `seed` and applies 1..3 protobuf-aware mutations; null when the seed is not protobuf. */
export function mutateProto(rng: Prng, seed: Buffer, log: string[]): Buffer | null {
  const tree = parse(seed, 0, seed.length, 0);
  if (!tree || tree.length === 0) return null;
  for (let i = rng.range(1, 3); i > 0; i--) {
    const all = flatten(tree);
    if (all.length === 0) break;
    const name = rng.pick(protoOpNames);
    log.push(`proto.${name}`);
    protoOps[name]!(rng, rng.pick(all), all);
  }
  const out = serialize(tree);
  return out.length > CAP ? out.subarray(0, CAP) : out;
}
