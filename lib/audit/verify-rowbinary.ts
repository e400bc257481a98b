/**
 * verify's pages in ClickHouse's RowBinary format: no text to parse per
 * row. A hashed rows page carries the body hash the store computed; a rows
 * page (verify --hash-locally) the body columns, whose encoding is built
 * from the row's bytes (body-rowbinary.ts) and hashed. Columns, in order:
 *
 *   rows:   LogIndex UInt64, Timestamp ns Int64, Category, Outcome, ServiceName String, the body columns (body-rowbinary.ts)
 *   hashed rows (verify-store.ts hashedRowsPage), leaves:
 *           LogIndex UInt64, Timestamp ns Int64, Category, Outcome, ServiceName String, body hash String (32 bytes)
 *
 * (String = LEB128 length ‖ bytes; integers little-endian.) Both in any
 * order: records are visited by LogIndex in place (pageRecords).
 */
import { hash } from 'node:crypto';
import { latin1Sha256 } from '../tlog/hash.ts';
import { bodyEncoding, pageRecords, skipBody } from './body-rowbinary.ts';
import { LEAF_VERSION } from './leaf.ts';
import type { OriginVerifier } from './verify-origin.ts';
import type { LeafRecord, StoredRow } from './verify-types.ts';

class Reader {
  at = 0;
  constructor(readonly buf: Buffer) {}

  u64(): number {
    const lo = this.buf.readUInt32LE(this.at);
    const hi = this.buf.readUInt32LE(this.at + 4);
    this.at += 8;
    if (hi >= 0x200000) throw new Error(`an index beyond 2^53 at byte ${this.at - 8}`);
    return hi * 0x1_0000_0000 + lo;
  }

  i64(): bigint {
    const v = this.buf.readBigInt64LE(this.at);
    this.at += 8;
    return v;
  }

  private len(): number {
    let n = 0;
    let shift = 0;
    for (;;) {
      const b = this.buf[this.at++];
      if (b === undefined) throw new Error('the page ends inside a string length');
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
      shift += 7;
    }
    if (this.at + n > this.buf.length) throw new Error('the page ends inside a string');
    return n;
  }

  str(): string {
    const n = this.len();
    const s = this.buf.toString('utf8', this.at, this.at + n);
    this.at += n;
    return s;
  }

  bytes(): Buffer {
    const n = this.len();
    const b = this.buf.subarray(this.at, this.at + n);
    this.at += n;
    return b;
  }
}

/** The columns a rows page and a leaves page both start with: index, time, category, outcome, service. */
function header(r: Reader, origin: string) {
  return { origin, index: r.u64(), timeNs: r.i64(), category: r.str(), outcome: r.str(), service: r.str() };
}

/** Throws on a truncated or malformed page. */
export function parseRowsPage(buf: Buffer, origin: string): StoredRow[] {
  const r = new Reader(buf);
  const out: StoredRow[] = [];
  while (r.at < buf.length) {
    const h = header(r, origin);
    const body = Buffer.from(bodyEncoding(buf, r.at));
    r.at = skipBody(buf, r.at);
    out.push({ ...h, body });
  }
  return out;
}

const NOT_A_HASH = Buffer.alloc(32);

/** Throws on a truncated or malformed page; a body hash that is not 32 bytes becomes one nothing matches. */
export function parseLeavesPage(buf: Buffer, origin: string): LeafRecord[] {
  const r = new Reader(buf);
  const out: LeafRecord[] = [];
  while (r.at < buf.length) {
    const h = header(r, origin);
    const hash = r.bytes();
    out.push({ ...h, bodyHash: hash.length === 32 ? hash : NOT_A_HASH, batch: '' });
  }
  return out;
}

/** A hashed rows page (verify-store.ts hashedRowsPage): the shape of a leaves page, each row carrying the body hash the store computed. */
export const parseHashedRowsPage: (buf: Buffer, origin: string) => StoredRow[] = parseLeavesPage;

function indexAt(buf: Buffer, at: number): number {
  return buf.readUInt32LE(at + 4) * 0x1_0000_0000 + buf.readUInt32LE(at);
}

const scratch = { buf: Buffer.allocUnsafe(1024) };

/**
 * SHA-256(0x00 ‖ entry) of leaf.ts, as latin1, from the page bytes: the
 * header strings copied with their lengths re-prefixed, the integers turned
 * big-endian — no string decoded or encoded again. `prefix`: 0x00 ‖ version
 * ‖ str(origin).
 */
function pageLeaf(prefix: Buffer, index: number, rowBuf: Buffer, hdr: number, hdrEnd: number, bh: Buffer, bhAt: number): string {
  const need = prefix.length + 16 + 4 * 3 + (hdrEnd - hdr) + 32;
  if (scratch.buf.length < need) scratch.buf = Buffer.allocUnsafe(2 * need);
  const out = scratch.buf;
  out.set(prefix, 0);
  let w = prefix.length;
  out.writeUInt32BE(Math.floor(index / 0x1_0000_0000), w);
  out.writeUInt32BE(index >>> 0, w + 4);
  for (let k = 0; k < 8; k++) out[w + 8 + k] = rowBuf[hdr + 7 - k]!;
  w += 16;
  let p = hdr + 8;
  for (let c = 0; c < 3; c++) {
    let n = 0;
    let shift = 0;
    for (;;) {
      const b = rowBuf[p++]!;
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
      shift += 7;
    }
    out.writeUInt32BE(n, w);
    w += 4;
    for (let k = 0; k < n; k++) out[w + k] = rowBuf[p + k]!;
    w += n;
    p += n;
  }
  for (let k = 0; k < 32; k++) out[w + k] = bh[bhAt + k]!;
  return latin1Sha256(out.subarray(0, w + 32));
}

/** The rows page's records (pageRecords) and their body hashes, from body-hasher.ts; worked out here when not given. */
export interface RowsPageOrder {
  rows: Int32Array;
  /** SHA-256 of each row's body, 32 bytes per record in the order of `rows`. */
  bodyHashes: Buffer;
  /** Each row's leaf hash (from its own bytes, as pageLeaf makes it), same order; worked out here when not given. */
  leaves?: Buffer;
}

/** 0x00 ‖ version ‖ str(origin): how every leaf entry of `origin` starts (leaf.ts). */
export function leafPrefix(origin: string): Buffer {
  const prefix = Buffer.concat([Buffer.from([0x00, LEAF_VERSION, 0, 0, 0, 0]), Buffer.from(origin, 'utf8')]);
  prefix.writeUInt32BE(prefix.length - 6, 2);
  return prefix;
}

/** A rows page whose body hashes the store computed (verify-store.ts hashedRowsPage): shaped like a leaves page. */
export const STORE_HASHED = 'store-hashed';

/**
 * Feeds one page of each (RowBinary, as above, in any order) covering
 * [v.next, until). Where one row and one record sit at an index with the
 * same header bytes and the row's body hashes to the record's body hash —
 * nearly always — the leaf is made straight from the page bytes; anything
 * else goes through OriginVerifier.index with parsed objects. `given`: the
 * rows page's order and body hashes worked out already (body-hasher.ts),
 * or STORE_HASHED for a hashed rows page.
 */
export function feedRowBinary(
  v: OriginVerifier,
  rowBuf: Buffer,
  recBuf: Buffer,
  until: number,
  given?: RowsPageOrder | typeof STORE_HASHED,
  /** A rows page's records as objects, for what disagrees: the audit table's by default (another table's log gives its own). */
  parseRows: (buf: Buffer, origin: string) => StoredRow[] = parseRowsPage,
): void {
  v.reserve(until);
  const origin = v.origin;
  const hashed = given === STORE_HASHED;
  const order = hashed ? undefined : given;
  const parse = hashed ? parseHashedRowsPage : parseRows;
  const R = order?.rows ?? pageRecords(rowBuf, !hashed, v.next, until);
  const K = pageRecords(recBuf, false, v.next, until);
  const bodyHashes = order?.bodyHashes;
  const leaves = order?.leaves as (Buffer & { latin1Slice(start: number, end: number): string }) | undefined;
  const prefix = leafPrefix(origin);
  const nr = R.length / 3;
  const nk = K.length / 3;
  let rk = 0; // records of R (and bodyHashes) passed
  let kk = 0;
  const rowIndex = (k: number) => (k < nr ? indexAt(rowBuf, R[3 * k]!) : Infinity);
  const recIndex = (k: number) => (k < nk ? indexAt(recBuf, K[3 * k]!) : Infinity);
  for (let i = v.next; i < until; i++) {
    const ri = rowIndex(rk);
    const ki = recIndex(kk);
    if (ri < i || ki < i) throw new Error(`rows or leaf records of ${origin} below index ${v.next} in a page that starts there`);
    if (ri === i && ki === i && rowIndex(rk + 1) !== i && recIndex(kk + 1) !== i) {
      const rs = R[3 * rk]!;
      const rsplit = R[3 * rk + 1]!;
      const ks = K[3 * kk]!;
      const ksplit = K[3 * kk + 1]!;
      // One row, one record: the same header bytes, a 32-byte body hash (its length prefix one byte) equal to the row's.
      if (K[3 * kk + 2]! - ksplit === 33 && recBuf[ksplit] === 32 && rsplit - rs === ksplit - ks && rowBuf.compare(recBuf, ks + 8, ksplit, rs + 8, rsplit) === 0 && (!hashed || (R[3 * rk + 2]! - rsplit === 33 && rowBuf[rsplit] === 32))) {
        const bh = hashed ? rowBuf : bodyHashes ?? hash('sha256', bodyEncoding(rowBuf, rsplit), 'buffer');
        const bhAt = hashed ? rsplit + 1 : bodyHashes ? 32 * rk : 0;
        if (bh.compare(recBuf, ksplit + 1, ksplit + 33, bhAt, bhAt + 32) === 0) {
          v.matched(i, rowBuf, rs + 8);
          // The row's header bytes and body hash are its record's, so the leaf made from the row is the record's too.
          v.placeLatin1(i, leaves ? leaves.latin1Slice(32 * rk, 32 * rk + 32) : pageLeaf(prefix, i, rowBuf, rs + 8, rsplit, bh, bhAt));
          rk++;
          kk++;
          continue;
        }
      }
    }
    // Everything at index i, as objects.
    const rows: StoredRow[] = [];
    const recs: LeafRecord[] = [];
    for (; rowIndex(rk) === i; rk++) rows.push(...parse(rowBuf.subarray(R[3 * rk]!, R[3 * rk + 2]!), origin));
    for (; recIndex(kk) === i; kk++) recs.push(...parseLeavesPage(recBuf.subarray(K[3 * kk]!, K[3 * kk + 2]!), origin));
    v.place(i, v.index(i, rows, recs));
  }
  if (rk < nr || kk < nk) throw new Error(`rows or leaf records of ${origin} at or beyond index ${until} in a page that ends there`);
  v.next = until;
}
