/**
 * verify's rows pages (body-rowbinary.ts) made ready on a worker thread:
 * their records in LogIndex order, and the SHA-256 of each row's body encoding (leaf.ts),
 * built from the page's bytes — done while the main thread builds the
 * leaves and the tree of the page before. The worker is plain CommonJS
 * evaluated from a string (no TypeScript loader in the worker, nothing to
 * bundle): the same steps as body-rowbinary.ts, tested against leaf.ts
 * like it.
 */
import { Worker } from 'node:worker_threads';

const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { hash } = require('node:crypto');
let at = 0; // the position after the last string length read
function len(b) {
  const x0 = b[at];
  if (x0 < 0x80) { // one length byte: nearly every string (undefined, past the end, takes the long way and throws)
    at++;
    if (at + x0 > b.length) throw new Error('the page ends inside a string');
    return x0;
  }
  let n = 0, shift = 0, x;
  do { x = b[at++]; if (x === undefined) throw new Error('the page ends inside a string length'); n += (x & 0x7f) * 2 ** shift; shift += 7; } while (x >= 0x80);
  if (at + n > b.length) throw new Error('the page ends inside a string');
  return n;
}
function skip(b, count) { for (let c = 0; c < count; c++) { const n = len(b); at += n; } } // not at += len(b): that reads at before len() moves it
function indexAt(b, p) {
  if (p + 8 > b.length) throw new Error('the page ends inside a LogIndex');
  return b.readUInt32LE(p + 4) * 0x100000000 + b.readUInt32LE(p);
}
let scratch = Buffer.allocUnsafe(4096);
// Views of a buffer's first n bytes, by n, made once rather than per row (what is hashed); emptied when it grows.
let scratchViews = [], entryViews = [];
function viewOf(buf, views, n) {
  if (n > 1024) return buf.subarray(0, n);
  let v = views[n];
  if (v === undefined) v = views[n] = buf.subarray(0, n);
  return v;
}
let pairAt = new Int32Array(64);
function room(w, n) {
  if (w + n <= scratch.length) return;
  const more = Buffer.allocUnsafe(Math.max(2 * scratch.length, w + n));
  scratch.copy(more, 0, 0, w);
  scratch = more;
  scratchViews = [];
}
function copyStr(b, w) {
  const n = len(b), p = at;
  room(w, 4 + n);
  scratch[w] = n >>> 24; scratch[w + 1] = (n >>> 16) & 0xff; scratch[w + 2] = (n >>> 8) & 0xff; scratch[w + 3] = n & 0xff;
  w += 4;
  // Short strings byte by byte: a native copy costs more per call than it saves.
  if (n <= 64) for (let k = 0; k < n; k++) scratch[w + k] = b[p + k];
  else scratch.set(b.subarray(p, p + n), w);
  at = p + n;
  return w + n;
}
function keyCompare(b, x, y) {
  const sa = pairAt[2 * x], la = pairAt[2 * x + 1], sb = pairAt[2 * y], lb = pairAt[2 * y + 1];
  const m = la < lb ? la : lb;
  for (let k = 0; k < m; k++) { const d = b[sa + k] - b[sb + k]; if (d) return d; }
  return la - lb;
}
// The body encoding of the body columns at 'at' (leaf.ts), Details sorted by key bytes.
function body(b) {
  let w = 0;
  for (let c = 0; c < 8; c++) w = copyStr(b, w);
  const pairs = len(b);
  room(w, 4);
  scratch.writeUInt32BE(pairs, w);
  w += 4;
  if (pairAt.length < 4 * pairs) pairAt = new Int32Array(4 * pairs);
  let sorted = true;
  for (let k = 0; k < pairs; k++) {
    pairAt[2 * pairs + k] = at;
    const kn = len(b);
    pairAt[2 * k] = at; pairAt[2 * k + 1] = kn;
    at += kn;
    const vn = len(b);
    at += vn;
    if (sorted && k > 0 && keyCompare(b, k - 1, k) > 0) sorted = false;
  }
  const end = at;
  const order = sorted ? undefined : Array.from({ length: pairs }, (_, k) => k).sort((x, y) => keyCompare(b, x, y) || x - y);
  for (let k = 0; k < pairs; k++) {
    at = pairAt[2 * pairs + (order ? order[k] : k)];
    w = copyStr(b, w);
    w = copyStr(b, w);
  }
  at = end;
  return viewOf(scratch, scratchViews, w);
}
let entry = Buffer.allocUnsafe(1024);
// The row's leaf hash (leaf.ts: SHA-256(0x00 ‖ entry)) from its header bytes at 'start' and its body hash at
// hashes[32n]: the prefix (0x00 ‖ version ‖ str(origin)), the integers turned big-endian, the three header
// strings re-prefixed with u32be lengths. Written to leaves[32n] as latin1.
function leaf(b, prefix, start, split, n) {
  const need = prefix.length + 16 + 12 + (split - start - 16) + 32;
  if (entry.length < need) { entry = Buffer.allocUnsafe(2 * need); entryViews = []; }
  const e = entry;
  e.set(prefix, 0);
  let w = prefix.length;
  for (let k = 0; k < 8; k++) { e[w + k] = b[start + 7 - k]; e[w + 8 + k] = b[start + 15 - k]; }
  w += 16;
  at = start + 16;
  for (let c = 0; c < 3; c++) {
    const m = len(b), p = at;
    e[w] = m >>> 24; e[w + 1] = (m >>> 16) & 0xff; e[w + 2] = (m >>> 8) & 0xff; e[w + 3] = m & 0xff;
    w += 4;
    for (let k = 0; k < m; k++) e[w + k] = b[p + k];
    w += m;
    at = p + m;
  }
  const h = 32 * n;
  for (let k = 0; k < 32; k++) e[w + k] = hashes[h + k];
  leaves.latin1Write(hash('sha256', viewOf(e, entryViews, w + 32), 'latin1'), h, 32);
}
let rec = new Int32Array(3 * 4096), idx = new Float64Array(4096), hashes = Buffer.allocUnsafe(32 * 4096), leaves = Buffer.allocUnsafe(32 * 4096);
// One pass over the page: each record's [start, split, end] (pageRecords of body-rowbinary.ts) and body hash; then both in LogIndex order.
function prepare(b, from, to, prefix) {
  let n = 0, sorted = true, inRange = to - from <= 1 << 26;
  for (at = 0; at < b.length; ) {
    const start = at;
    const i = indexAt(b, start);
    if (n && i < idx[n - 1]) sorted = false;
    if (i < from || i >= to) inRange = false;
    if (n === idx.length) {
      const r2 = new Int32Array(2 * rec.length); r2.set(rec); rec = r2;
      const i2 = new Float64Array(2 * n); i2.set(idx); idx = i2;
      const h2 = Buffer.allocUnsafe(2 * hashes.length); hashes.copy(h2); hashes = h2;
      const l2 = Buffer.allocUnsafe(2 * leaves.length); leaves.copy(l2); leaves = l2;
    }
    at = start + 16;
    skip(b, 3);
    const split = at;
    // A latin1 string result costs a fraction of a Buffer's to produce.
    // latin1Write: Buffer.write's encoding dispatch costs about as much as the copy.
    hashes.latin1Write(hash('sha256', body(b), 'latin1'), 32 * n, 32);
    const end = at;
    if (prefix) leaf(b, prefix, start, split, n);
    rec[3 * n] = start; rec[3 * n + 1] = split; rec[3 * n + 2] = end;
    at = end;
    idx[n++] = i;
  }
  const outRec = new Int32Array(3 * n);
  // Body hashes, then the leaf hashes when asked: its own memory, never the shared pool (it is transferred).
  const out = Buffer.allocUnsafeSlow((prefix ? 64 : 32) * n);
  if (sorted) {
    outRec.set(rec.subarray(0, 3 * n));
    hashes.copy(out, 0, 0, 32 * n);
    if (prefix) leaves.copy(out, 32 * n, 0, 32 * n);
    return { rec: outRec, out };
  }
  let order;
  if (inRange) {
    const pos = new Int32Array(to - from + 1);
    for (let k = 0; k < n; k++) pos[idx[k] - from + 1]++;
    for (let s = 1; s < pos.length; s++) pos[s] += pos[s - 1];
    order = new Int32Array(n);
    for (let k = 0; k < n; k++) order[pos[idx[k] - from]++] = k;
  } else {
    order = Array.from({ length: n }, (_, k) => k).sort((x, y) => idx[x] - idx[y] || x - y);
  }
  for (let k = 0; k < n; k++) {
    const r = order[k];
    outRec[3 * k] = rec[3 * r]; outRec[3 * k + 1] = rec[3 * r + 1]; outRec[3 * k + 2] = rec[3 * r + 2];
    for (let j = 0; j < 32; j++) out[32 * k + j] = hashes[32 * r + j];
    if (prefix) for (let j = 0, o = 32 * (n + k); j < 32; j++) out[o + j] = leaves[32 * r + j];
  }
  return { rec: outRec, out };
}
parentPort.on('message', ({ id, page, from, to, owned, prefix }) => {
  try {
    const { rec, out } = prepare(Buffer.from(page.buffer, page.byteOffset, page.byteLength), from, to, prefix && Buffer.from(prefix.buffer, prefix.byteOffset, prefix.byteLength));
    // A page handed over (its memory transferred) goes back the same way.
    parentPort.postMessage({ id, out, rec, page: owned ? page : undefined }, owned ? [out.buffer, rec.buffer, page.buffer] : [out.buffer, rec.buffer]);
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message || err), page: owned ? page : undefined }, owned ? [page.buffer] : []);
  }
});
`;

/** A rows page as handed to hashPage (or the same bytes, handed back), its records in LogIndex order and their body hashes (verify-rowbinary.ts RowsPageOrder). */
export interface HashedPage {
  page: Buffer;
  rows: Int32Array;
  bodyHashes: Buffer;
  /** With a leaf prefix: each row's leaf hash, 32 bytes per record in the order of `rows`. */
  leaves?: Buffer;
}

export class BodyHasher {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { page: Buffer; resolve: (p: HashedPage) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  /**
   * The records of `page` (rows of LogIndex from <= i < to, in any order)
   * by LogIndex, and their body hashes; rejects on a malformed page or a
   * dead worker. `handOver`: the page's memory moves to the worker and back
   * instead of being copied (only when the page is all of its ArrayBuffer;
   * use the returned `page`, the given one is emptied). `leafPrefix`
   * (verify-rowbinary.ts leafPrefix: 0x00 ‖ version ‖ str(origin)): each
   * row's leaf hash too, from its own header bytes and body hash, so the
   * main thread only compares the row with its leaf record.
   */
  hashPage(page: Buffer, from: number, to: number, handOver = false, leafPrefix?: Buffer): Promise<HashedPage> {
    const w = this.start();
    const id = this.nextId++;
    const owned = handOver && page.byteOffset === 0 && page.byteLength === page.buffer.byteLength && page.byteLength > 0;
    return new Promise<HashedPage>((resolve, reject) => {
      this.pending.set(id, { page, resolve, reject });
      w.postMessage({ id, page, from, to, owned, prefix: leafPrefix }, owned ? [page.buffer as ArrayBuffer] : []);
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(SOURCE, { eval: true });
    w.unref();
    w.on('message', (m: { id: number; out?: Uint8Array; rec?: Int32Array; page?: Uint8Array; error?: string }) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (!p) return;
      const page = m.page ? Buffer.from(m.page.buffer, m.page.byteOffset, m.page.byteLength) : p.page;
      if (m.out && m.rec) {
        const n = m.rec.length / 3;
        const out = Buffer.from(m.out.buffer, m.out.byteOffset, m.out.byteLength);
        const hashed: HashedPage = { page, rows: m.rec, bodyHashes: out.subarray(0, 32 * n) };
        if (out.length === 64 * n && n > 0) hashed.leaves = out.subarray(32 * n);
        p.resolve(hashed);
      }
      else p.reject(new Error(`body hashing: ${m.error}`));
    });
    const fail = (err: unknown) => {
      if (this.worker !== w) return;
      this.worker = undefined;
      for (const p of this.pending.values()) p.reject(err instanceof Error ? err : new Error('the body hashing worker exited'));
      this.pending.clear();
    };
    w.on('error', fail);
    w.on('exit', fail);
    this.worker = w;
    return w;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    if (w) await w.terminate();
  }
}
