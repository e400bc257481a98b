/**
 * verify's rows pages (body-rowbinary.ts) made ready on a worker thread:
 * their records' LogIndex order, and the SHA-256 of each row's body encoding (leaf.ts),
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
  let n = 0, shift = 0, x;
  do { x = b[at++]; if (x === undefined) throw new Error('the page ends inside a string length'); n += (x & 0x7f) * 2 ** shift; shift += 7; } while (x >= 0x80);
  if (at + n > b.length) throw new Error('the page ends inside a string');
  return n;
}
function skip(b, count) { for (let c = 0; c < count; c++) { const n = len(b); at += n; } } // not at += len(b): that reads at before len() moves it
function rowEnd(b, p) {
  at = p + 16;
  skip(b, 11);
  skip(b, 2 * len(b));
  return at;
}
function indexAt(b, p) {
  if (p + 8 > b.length) throw new Error('the page ends inside a LogIndex');
  return b.readUInt32LE(p + 4) * 0x100000000 + b.readUInt32LE(p);
}
// Record starts in LogIndex order (records at one index in page order).
function pageOrder(b, from, to) {
  const starts = [], idx = [];
  let sorted = true, inRange = to - from <= 1 << 26;
  for (let p = 0; p < b.length; p = rowEnd(b, p)) {
    const i = indexAt(b, p);
    if (idx.length && i < idx[idx.length - 1]) sorted = false;
    if (i < from || i >= to) inRange = false;
    starts.push(p); idx.push(i);
  }
  const n = starts.length;
  const order = new Int32Array(n);
  if (sorted) order.set(starts);
  else if (inRange) {
    const pos = new Int32Array(to - from + 1);
    for (let k = 0; k < n; k++) pos[idx[k] - from + 1]++;
    for (let s = 1; s < pos.length; s++) pos[s] += pos[s - 1];
    for (let k = 0; k < n; k++) order[pos[idx[k] - from]++] = starts[k];
  } else {
    const ks = Array.from({ length: n }, (_, k) => k).sort((x, y) => idx[x] - idx[y] || x - y);
    for (let k = 0; k < n; k++) order[k] = starts[ks[k]];
  }
  return order;
}
let scratch = Buffer.allocUnsafe(4096);
let pairAt = new Int32Array(64);
function room(w, n) {
  if (w + n <= scratch.length) return;
  const more = Buffer.allocUnsafe(Math.max(2 * scratch.length, w + n));
  scratch.copy(more, 0, 0, w);
  scratch = more;
}
function copyStr(b, w) {
  const n = len(b), p = at;
  room(w, 4 + n);
  scratch.writeUInt32BE(n, w);
  w += 4;
  if (n <= 32) for (let k = 0; k < n; k++) scratch[w + k] = b[p + k];
  else b.copy(scratch, w, p, p + n);
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
  return scratch.subarray(0, w);
}
parentPort.on('message', ({ id, page, from, to }) => {
  try {
    const b = Buffer.from(page.buffer, page.byteOffset, page.byteLength);
    const order = pageOrder(b, from, to);
    const out = Buffer.allocUnsafeSlow(32 * order.length); // its own memory, never the shared pool: it is transferred
    for (let k = 0; k < order.length; k++) {
      at = order[k] + 16;
      skip(b, 3);
      hash('sha256', body(b), 'buffer').copy(out, 32 * k);
    }
    parentPort.postMessage({ id, out, order }, [out.buffer, order.buffer]);
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message || err) });
  }
});
`;

/** Where each record of a rows page starts, in LogIndex order, and the SHA-256 of each row's body encoding (32 bytes per record, in that order). */
export interface HashedPage {
  rowOrder: Int32Array;
  bodyHashes: Buffer;
}

export class BodyHasher {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: (p: HashedPage) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  /**
   * The order of `page` (rows of LogIndex from <= i < to, in any order) and
   * its rows' body hashes; rejects on a malformed page or a dead worker.
   */
  hashPage(page: Buffer, from: number, to: number): Promise<HashedPage> {
    const w = this.start();
    const id = this.nextId++;
    return new Promise<HashedPage>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, page, from, to });
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(SOURCE, { eval: true });
    w.unref();
    w.on('message', (m: { id: number; out?: Uint8Array; order?: Int32Array; error?: string }) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (!p) return;
      if (m.out && m.order) p.resolve({ rowOrder: m.order, bodyHashes: Buffer.from(m.out.buffer, m.out.byteOffset, m.out.byteLength) });
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
