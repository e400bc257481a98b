/**
 * verify's pages in ClickHouse's RowBinary format: no text to parse per
 * row, and the body encoding arrives as raw bytes that are hashed where they
 * lie (a view into the page, not a copy). Columns, in order:
 *
 *   rows:   LogIndex UInt64, Timestamp ns Int64, Category, Outcome, ServiceName String, body String
 *   leaves: LogIndex UInt64, Timestamp ns Int64, Category, Outcome, ServiceName String, body hash String (32 bytes)
 *
 * (String = LEB128 length ‖ bytes; integers little-endian.)
 */
import { hash } from 'node:crypto';
import { auditLeafLatin1 } from './leaf.ts';
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

/** Throws on a truncated or malformed page. */
export function parseRowsPage(buf: Buffer, origin: string): StoredRow[] {
  const r = new Reader(buf);
  const out: StoredRow[] = [];
  while (r.at < buf.length) {
    const index = r.u64();
    const timeNs = r.i64();
    out.push({ origin, index, timeNs, category: r.str(), outcome: r.str(), service: r.str(), body: r.bytes() });
  }
  return out;
}

const NOT_A_HASH = Buffer.alloc(32);

/** Throws on a truncated or malformed page; a body hash that is not 32 bytes becomes one nothing matches. */
export function parseLeavesPage(buf: Buffer, origin: string): LeafRecord[] {
  const r = new Reader(buf);
  const out: LeafRecord[] = [];
  while (r.at < buf.length) {
    const index = r.u64();
    const timeNs = r.i64();
    const category = r.str();
    const outcome = r.str();
    const service = r.str();
    const h = r.bytes();
    out.push({ origin, index, timeNs, category, outcome, service, bodyHash: h.length === 32 ? h : NOT_A_HASH, batch: '' });
  }
  return out;
}

/** Offsets of one record: [start, end, header start (Timestamp), header end (after ServiceName), last column start, last column end]. */
function scan(buf: Buffer, at: number, out: Int32Array): void {
  out[0] = at;
  let p = at + 16;
  out[2] = at + 8;
  for (let c = 0; c < 4; c++) {
    let n = 0;
    let shift = 0;
    for (;;) {
      const b = buf[p++];
      if (b === undefined) throw new Error('the page ends inside a string length');
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) break;
      shift += 7;
    }
    if (c === 3) {
      out[4] = p;
      out[5] = p + n;
    }
    p += n;
    if (p > buf.length) throw new Error('the page ends inside a string');
    if (c === 2) out[3] = p;
  }
  out[1] = p;
}

function indexAt(buf: Buffer, at: number): number {
  return at < buf.length ? buf.readUInt32LE(at + 4) * 0x1_0000_0000 + buf.readUInt32LE(at) : Infinity;
}

/**
 * Feeds one page of each (RowBinary, as above) covering [v.next, until).
 * Where one row and one record sit at an index with the same header bytes
 * and the row's body hashes to the record's body hash — nearly always — the
 * leaf is made straight from the page bytes; anything else goes through
 * OriginVerifier.index with parsed objects. `bodyHashes`: SHA-256 of each
 * row's body, 32 bytes per record in page order (body-hasher.ts), or
 * computed here.
 */
export function feedRowBinary(v: OriginVerifier, rowBuf: Buffer, recBuf: Buffer, until: number, bodyHashes?: Buffer): void {
  v.reserve(until);
  const origin = v.origin;
  const row = new Int32Array(6);
  const rec = new Int32Array(6);
  let rp = 0;
  let kp = 0;
  let nth = 0; // records of rowBuf passed, for bodyHashes
  for (let i = v.next; i < until; i++) {
    const ri = indexAt(rowBuf, rp);
    const ki = indexAt(recBuf, kp);
    if (ri < i || ki < i) throw new Error(`rows or leaf records of ${origin} are not sorted by LogIndex (or below ${v.next})`);
    if (ri === i && ki === i) {
      scan(rowBuf, rp, row);
      scan(recBuf, kp, rec);
      if (indexAt(rowBuf, row[1]!) !== i && indexAt(recBuf, rec[1]!) !== i && rec[5]! - rec[4]! === 32) {
        const hlen = row[3]! - row[2]!;
        const bh = bodyHashes ? bodyHashes.subarray(32 * nth, 32 * nth + 32) : hash('sha256', rowBuf.subarray(row[4]!, row[5]!), 'buffer');
        if (hlen === rec[3]! - rec[2]! && rowBuf.compare(recBuf, rec[2]!, rec[3]!, row[2]!, row[3]!) === 0 && bh.compare(recBuf, rec[4]!, rec[5]!) === 0) {
          const r = new Reader(rowBuf);
          r.at = row[2]!;
          const timeNs = r.i64();
          const category = r.str();
          const outcome = r.str();
          const service = r.str();
          v.matched(i, timeNs);
          v.placeLatin1(i, auditLeafLatin1({ origin, index: i, timeNs, category, outcome, service, bodyHash: bh }));
          rp = row[1]!;
          kp = rec[1]!;
          nth++;
          continue;
        }
      }
    }
    // Everything at index i, as objects.
    const rows: StoredRow[] = [];
    const recs: LeafRecord[] = [];
    while (indexAt(rowBuf, rp) === i) {
      scan(rowBuf, rp, row);
      rows.push(...parseRowsPage(rowBuf.subarray(rp, row[1]!), origin));
      rp = row[1]!;
      nth++;
    }
    while (indexAt(recBuf, kp) === i) {
      scan(recBuf, kp, rec);
      recs.push(...parseLeavesPage(recBuf.subarray(kp, rec[1]!), origin));
      kp = rec[1]!;
    }
    v.place(i, v.index(i, rows, recs));
  }
  if (rp < rowBuf.length || kp < recBuf.length) throw new Error(`rows or leaf records of ${origin} at or beyond index ${until} in a page that ends there`);
  v.next = until;
}
