/**
 * The canonical bytes of an audit_events row as a leaf of the audit log's
 * Merkle tree (lib/audit/log.ts), version 1. Anyone can recompute a leaf
 * from a query result with SHA-256 alone (README: "Checking the audit
 * trail without trailhouse"):
 *
 *   str(s) = u32be(UTF-8 byte length) ‖ UTF-8 bytes
 *   body   = str(Action) ‖ str(Principal) ‖ str(Source) ‖ str(Destination)
 *            ‖ str(Resource) ‖ str(Policy) ‖ str(TraceId) ‖ str(SpanId)
 *            ‖ u32be(n) ‖ n × (str(key) ‖ str(value))   Details, sorted by key bytes
 *   entry  = 0x01 ‖ str(LogOrigin) ‖ u64be(LogIndex) ‖ i64be(Timestamp, ns)
 *            ‖ str(Category) ‖ str(Outcome) ‖ str(ServiceName) ‖ SHA-256(body)
 *   leaf   = SHA-256(0x00 ‖ entry)                         (RFC 9162 leaf hash)
 *
 * Why two levels: the columns that decide retention (time, category,
 * outcome, service) stay provable after a row expires. The leaves table
 * keeps them and the body's hash, so a verifier can recompute an expired
 * row's leaf and check that a retention rule, not someone, removed it.
 * The origin and index are in the entry, so a row moved to another index
 * or another log no longer matches its leaf (a reorder is named, not
 * just a root mismatch).
 */
import { hexSha256, latin1Sha256 } from '../tlog/hash.ts';

export const LEAF_VERSION = 1;

export interface BodyFields {
  action: string;
  principal: string;
  source: string;
  destination: string;
  resource: string;
  policy: string;
  traceId: string;
  spanId: string;
  details: Readonly<Record<string, string>>;
}

export interface LeafFields {
  origin: string;
  index: number;
  /** Timestamp, nanoseconds since the epoch. */
  timeNs: bigint;
  category: string;
  outcome: string;
  service: string;
  bodyHash: Buffer;
}

/** A growable byte buffer for the length-prefixed encoding; reused across rows. */
class Writer {
  buf = Buffer.allocUnsafe(1024);
  at = 0;
  /** Views of the buffer's first n bytes, by n: what is hashed, made once rather than per row. */
  private views: Buffer[] = [];

  reset(): void {
    this.at = 0;
  }

  private room(n: number): void {
    if (this.at + n <= this.buf.length) return;
    const more = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.at + n));
    this.buf.copy(more, 0, 0, this.at);
    this.buf = more;
    this.views = [];
  }

  /** The bytes written, as a view that stays valid until the next write (do not keep it). */
  scratchView(): Buffer {
    const n = this.at;
    if (n > 512) return this.buf.subarray(0, n);
    return (this.views[n] ??= this.buf.subarray(0, n));
  }

  str(s: string): void {
    // Worst case 3 bytes per UTF-16 unit; the length is patched after the write.
    const len = s.length;
    this.room(4 + 3 * len);
    const buf = this.buf;
    const start = this.at + 4;
    // ASCII (nearly every audit value) in JS: a native call per short string costs more.
    let i = 0;
    if (len <= 64) {
      for (; i < len; i++) {
        const c = s.charCodeAt(i);
        if (c > 0x7f) break;
        buf[start + i] = c;
      }
    }
    const n = i === len ? len : i + buf.write(i ? s.slice(i) : s, start + i, 'utf8');
    const at = this.at;
    buf[at] = n >>> 24;
    buf[at + 1] = (n >>> 16) & 0xff;
    buf[at + 2] = (n >>> 8) & 0xff;
    buf[at + 3] = n & 0xff;
    this.at = start + n;
  }

  /** A non-negative safe integer as u64be, without a BigInt. */
  u64n(v: number): void {
    this.room(8);
    this.buf.writeUInt32BE(Math.floor(v / 0x1_0000_0000), this.at);
    this.buf.writeUInt32BE(v >>> 0, this.at + 4);
    this.at += 8;
  }

  u8(v: number): void {
    this.room(1);
    this.buf[this.at++] = v;
  }

  u32(v: number): void {
    this.room(4);
    this.buf.writeUInt32BE(v, this.at);
    this.at += 4;
  }

  i64(v: bigint): void {
    this.room(8);
    this.buf.writeBigInt64BE(v, this.at);
    this.at += 8;
  }

  hex32(h: string): void {
    this.room(32);
    if (h.length !== 64 || this.buf.write(h, this.at, 'hex') !== 32) throw new Error(`a body hash is 64 hex digits, got ${JSON.stringify(h.slice(0, 80))}`);
    this.at += 32;
  }

  bytes(b: Uint8Array): void {
    this.room(b.length);
    this.buf.set(b, this.at);
    this.at += b.length;
  }

  view(): Buffer {
    return this.buf.subarray(0, this.at);
  }
}

const w = new Writer();

/**
 * Key lists seen lately and their sorted order. A batch's details come from
 * a few classification paths, so the same key list (in the same order)
 * repeats row after row: its order is worked out once, not per row.
 */
const SHAPES = 8;
const shapeKeys: string[][] = [];
const shapeOrder: string[][] = [];
let shapeNext = 0;

function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Keys sorted by their UTF-8 bytes (not UTF-16 code units: they differ above
 * U+FFFF): the order of the body encoding, and the order Details are stored
 * in (schema.ts), so `verify` finds them sorted. Do not change the array returned.
 */
export function sortedKeys(details: Readonly<Record<string, string>>): readonly string[] {
  const keys = Object.keys(details);
  for (let s = 0; s < shapeKeys.length; s++) if (sameKeys(keys, shapeKeys[s]!)) return shapeOrder[s]!;
  const order = sortByUtf8(keys.slice());
  shapeKeys[shapeNext] = keys;
  shapeOrder[shapeNext] = order;
  shapeNext = (shapeNext + 1) % SHAPES;
  return order;
}

function sortByUtf8(keys: string[]): string[] {
  let ascii = true;
  for (let i = 0; ascii && i < keys.length; i++) {
    const k = keys[i]!;
    for (let j = 0; j < k.length; j++) {
      if (k.charCodeAt(j) > 0x7f) {
        ascii = false;
        break;
      }
    }
  }
  // ASCII: code-unit order is byte order.
  if (ascii) return keys.sort();
  return keys.sort((a, b) => Buffer.compare(Buffer.from(a, 'utf8'), Buffer.from(b, 'utf8')));
}

/** The body's encoding (exported for tests and `trailhouse proof`). */
export function bodyBytes(b: BodyFields): Buffer {
  w.reset();
  w.str(b.action);
  w.str(b.principal);
  w.str(b.source);
  w.str(b.destination);
  w.str(b.resource);
  w.str(b.policy);
  w.str(b.traceId);
  w.str(b.spanId);
  const keys = sortedKeys(b.details);
  w.u32(keys.length);
  for (const k of keys) {
    w.str(k);
    w.str(b.details[k]!);
  }
  return w.view();
}

/** The body's SHA-256 as lowercase hex: how it is stored (LogBodyHash), and cheaper than a Buffer to produce. */
export function bodyHashHex(b: BodyFields): string {
  bodyBytes(b);
  return hexSha256(w.scratchView());
}

export function bodyHash(b: BodyFields): Buffer {
  return Buffer.from(bodyHashHex(b), 'hex');
}

/** LeafFields with the body hash as stored (hex). */
export type StoredLeafFields = Omit<LeafFields, 'bodyHash'> & { bodyHashHex: string };

/** The entry's first bytes for the origin last seen (0x00 ‖ version ‖ str(origin)): the same for every row of a log. */
let prefixOf = '';
let prefix = Buffer.alloc(0);

function writeHead(origin: string, index: number, timeNs: bigint, category: string, outcome: string, service: string): void {
  if (origin !== prefixOf || prefix.length === 0) {
    w.reset();
    w.u8(0x00); // RFC 9162 leaf prefix, so the leaf hash is one hash of this buffer
    w.u8(LEAF_VERSION);
    w.str(origin);
    prefix = Buffer.from(w.view());
    prefixOf = origin;
  }
  w.reset();
  w.bytes(prefix);
  if (!Number.isSafeInteger(index) || index < 0) throw new RangeError(`a leaf index is a non-negative safe integer, got ${index}`);
  w.u64n(index);
  w.i64(timeNs);
  w.str(category);
  w.str(outcome);
  w.str(service);
}

function writeEntry(f: LeafFields | StoredLeafFields): void {
  writeHead(f.origin, f.index, f.timeNs, f.category, f.outcome, f.service);
  if ('bodyHash' in f) {
    if (f.bodyHash.length !== 32) throw new Error(`body hash must be 32 bytes, got ${f.bodyHash.length}`);
    w.bytes(f.bodyHash);
  } else {
    w.hex32(f.bodyHashHex);
  }
}

/** The entry (without the 0x00 leaf prefix): what the tree's leaf hashes. */
export function leafEntry(f: LeafFields): Buffer {
  writeEntry(f);
  return Buffer.from(w.view().subarray(1));
}

/** SHA-256(0x00 ‖ entry): the row's leaf hash. */
export function auditLeafHash(f: LeafFields | StoredLeafFields): Buffer {
  return Buffer.from(auditLeafLatin1(f), 'latin1');
}

/**
 * The leaf hash as a 32-character latin1 string (one char per byte): what
 * the log's tree works on, since a string result costs a fraction of a
 * Buffer's to produce (lib/tlog/tree.ts appendLatin1).
 */
export function auditLeafLatin1(f: LeafFields | StoredLeafFields): string {
  writeEntry(f);
  return latin1Sha256(w.scratchView());
}

/** auditLeafLatin1 of stored fields given one by one (the log's per-row path: no object per row). */
export function storedLeafLatin1(origin: string, index: number, timeNs: bigint, category: string, outcome: string, service: string, bodyHashHex: string): string {
  writeHead(origin, index, timeNs, category, outcome, service);
  w.hex32(bodyHashHex);
  return latin1Sha256(w.scratchView());
}
