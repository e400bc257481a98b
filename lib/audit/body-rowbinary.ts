/**
 * verify's rows page (verify-store.ts rowsPage) as the store sends it, in
 * ClickHouse's RowBinary format: plain columns, so the engine only reads
 * them, and the body's canonical encoding (leaf.ts) built here from the
 * bytes as they lie: RowBinary strings are LEB128-length-prefixed, the body
 * encoding is u32be-length-prefixed, so each value is copied, never decoded
 * to a JS string. Columns, in order:
 *
 *   LogIndex UInt64, Timestamp ns Int64, Category, Outcome, ServiceName,
 *   Action, Principal, Source, Destination, Resource, Policy, TraceId, SpanId String,
 *   Details Map(String, String)   (LEB128 count ‖ count × (key ‖ value))
 *
 * Pages arrive in no particular order (an ORDER BY costs the engine more
 * than reading the columns); `pageRecords` gives their records' LogIndex order.
 * body-hasher.ts does the same work on a worker thread, in plain JS; both
 * are tested against leaf.ts.
 */

/** Columns of a rows record after ServiceName: the eight body strings, then Details. */
const BODY_STRINGS = 8;

/** LEB128 length at `p`: sets `len.n` and returns the position after it; throws past the end of the page. */
function leb(buf: Buffer, p: number, len: { n: number }): number {
  let n = 0;
  let shift = 0;
  for (;;) {
    const b = buf[p++];
    if (b === undefined) throw new Error('the page ends inside a string length');
    n += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
    shift += 7;
  }
  if (p + n > buf.length) throw new Error('the page ends inside a string');
  len.n = n;
  return p;
}

const len = { n: 0 };

/** Position after `count` strings starting at `p`. */
export function skipStrings(buf: Buffer, p: number, count: number): number {
  for (let c = 0; c < count; c++) {
    p = leb(buf, p, len);
    p += len.n;
  }
  return p;
}

/** Position after an Array(String) (LEB128 count, then the strings) starting at `p`. */
export function skipStringArray(buf: Buffer, p: number): number {
  p = leb(buf, p, len);
  return skipStrings(buf, p, len.n);
}

/** Position after the body columns (Action … Details) starting at `p`. */
export function skipBody(buf: Buffer, p: number): number {
  p = skipStrings(buf, p, BODY_STRINGS);
  // Details' count (leb() checks that as many bytes follow: each pair takes two at least).
  p = leb(buf, p, len);
  return skipStrings(buf, p, 2 * len.n);
}

function indexAt(buf: Buffer, at: number): number {
  if (at + 16 > buf.length) throw new Error('the page ends inside a record');
  return buf.readUInt32LE(at + 4) * 0x1_0000_0000 + buf.readUInt32LE(at);
}

/**
 * A page's records in LogIndex order (records at one index in page order),
 * read in place, never copied: three numbers per record, [start, split,
 * end], where the header (Timestamp … ServiceName) is [start + 8, split)
 * and the rest (a row's body columns, a leaf record's body hash) [split,
 * end). `rows`: a rows page, else a leaves page. `from`/`to`: the page's
 * index range, for a counting sort; records outside it are ordered too
 * (and refused by feedRowBinary).
 */
export function pageRecords(buf: Buffer, rows: boolean, from: number, to: number): Int32Array {
  let rec = new Int32Array(3 * Math.max(16, Math.min(to - from, 1 << 20)));
  let idx = new Float64Array(rec.length / 3);
  let n = 0;
  let sorted = true;
  let inRange = to - from <= 1 << 26;
  for (let p = 0; p < buf.length; ) {
    const i = indexAt(buf, p);
    if (n && i < idx[n - 1]!) sorted = false;
    if (i < from || i >= to) inRange = false;
    if (n === idx.length) {
      const r2 = new Int32Array(2 * rec.length);
      r2.set(rec);
      rec = r2;
      const i2 = new Float64Array(2 * n);
      i2.set(idx);
      idx = i2;
    }
    const split = skipStrings(buf, p + 16, 3);
    const end = rows ? skipBody(buf, split) : skipStrings(buf, split, 1);
    rec[3 * n] = p;
    rec[3 * n + 1] = split;
    rec[3 * n + 2] = end;
    idx[n++] = i;
    p = end;
  }
  if (sorted) return rec.subarray(0, 3 * n);
  return inIndexOrder(rec, idx, n, inRange ? from : -1, to);
}

/**
 * `n` records ([start, split, end] each in `rec`, LogIndex `idx[k]`) in
 * LogIndex order, records at one index in page order. `from` >= 0: every
 * index lies in [from, to), small enough for a counting sort; -1: sorted by
 * comparison.
 */
export function inIndexOrder(rec: ArrayLike<number>, idx: ArrayLike<number>, n: number, from: number, to: number): Int32Array {
  const order = new Int32Array(n);
  if (from >= 0) {
    const at = new Int32Array(to - from + 1);
    for (let k = 0; k < n; k++) at[idx[k]! - from + 1]!++;
    for (let s = 1; s < at.length; s++) at[s]! += at[s - 1]!;
    for (let k = 0; k < n; k++) order[at[idx[k]! - from]!++] = k;
  } else {
    const ks = Array.from({ length: n }, (_, k) => k).sort((a, b) => idx[a]! - idx[b]! || a - b);
    for (let k = 0; k < n; k++) order[k] = ks[k]!;
  }
  const out = new Int32Array(3 * n);
  for (let k = 0; k < n; k++) {
    const r = 3 * order[k]!;
    out[3 * k] = rec[r]!;
    out[3 * k + 1] = rec[r + 1]!;
    out[3 * k + 2] = rec[r + 2]!;
  }
  return out;
}

/** Scratch for one body's encoding, reused; grows as needed. */
let scratch = Buffer.allocUnsafe(4096);
let pairAt = new Int32Array(64);

function room(w: number, n: number): void {
  if (w + n <= scratch.length) return;
  const more = Buffer.allocUnsafe(Math.max(2 * scratch.length, w + n));
  scratch.copy(more, 0, 0, w);
  scratch = more;
}

/** Copies the RowBinary string at `p` as str(s) of leaf.ts at `w`; returns the new `w` and leaves `len.n` = the position after the string. */
function copyStr(buf: Buffer, p: number, w: number): number {
  p = leb(buf, p, len);
  const n = len.n;
  room(w, 4 + n);
  scratch.writeUInt32BE(n, w);
  w += 4;
  if (n <= 32) for (let k = 0; k < n; k++) scratch[w + k] = buf[p + k]!;
  else buf.copy(scratch, w, p, p + n);
  len.n = p + n;
  return w + n;
}

/** Key bytes of pair a vs pair b (pairAt holds each pair's key start and length). */
function keyCompare(buf: Buffer, a: number, b: number): number {
  const sa = pairAt[2 * a]!;
  const la = pairAt[2 * a + 1]!;
  const sb = pairAt[2 * b]!;
  const lb = pairAt[2 * b + 1]!;
  const m = la < lb ? la : lb;
  for (let k = 0; k < m; k++) {
    const d = buf[sa + k]! - buf[sb + k]!;
    if (d) return d;
  }
  return la - lb;
}

/**
 * The body encoding of the body columns at `p` (a view of the scratch
 * buffer: valid until the next call). Details' pairs are written sorted by
 * key bytes, as stored when they already are.
 */
export function bodyEncoding(buf: Buffer, p: number): Buffer {
  let w = 0;
  for (let c = 0; c < BODY_STRINGS; c++) {
    w = copyStr(buf, p, w);
    p = len.n;
  }
  p = leb(buf, p, len);
  const pairs = len.n;
  room(w, 4);
  scratch.writeUInt32BE(pairs, w);
  w += 4;
  if (pairAt.length < 4 * pairs) pairAt = new Int32Array(4 * pairs);
  // Where each pair starts, and its key's bytes; sorted unless two neighbours are out of order.
  let sorted = true;
  for (let k = 0; k < pairs; k++) {
    pairAt[2 * pairs + k] = p;
    p = leb(buf, p, len);
    pairAt[2 * k] = p;
    pairAt[2 * k + 1] = len.n;
    p += len.n;
    p = leb(buf, p, len);
    p += len.n;
    if (sorted && k > 0 && keyCompare(buf, k - 1, k) > 0) sorted = false;
  }
  let order: number[] | undefined;
  if (!sorted) order = Array.from({ length: pairs }, (_, k) => k).sort((a, b) => keyCompare(buf, a, b) || a - b);
  for (let k = 0; k < pairs; k++) {
    let q = pairAt[2 * pairs + (order ? order[k]! : k)]!;
    w = copyStr(buf, q, w);
    q = len.n;
    w = copyStr(buf, q, w);
  }
  return scratch.subarray(0, w);
}
