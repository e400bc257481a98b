/**
 * SHA-256 of each row's body column of a RowBinary rows page
 * (verify-rowbinary.ts), on a worker thread: a third of verify's hashing,
 * done while the main thread builds the leaves and the tree of the page
 * before. The worker is plain CommonJS evaluated from a string (no
 * TypeScript loader in the worker, nothing to bundle) and knows nothing of
 * the leaf format: it hashes the last column of each record.
 */
import { Worker } from 'node:worker_threads';

const SOURCE = `
const { parentPort } = require('node:worker_threads');
const { hash } = require('node:crypto');
function len(b, p) {
  let n = 0, shift = 0, x;
  do { x = b[p.at++]; if (x === undefined) throw new Error('truncated'); n += (x & 0x7f) * 2 ** shift; shift += 7; } while (x >= 0x80);
  return n;
}
parentPort.on('message', ({ id, page }) => {
  try {
    const b = Buffer.from(page.buffer, page.byteOffset, page.byteLength);
    const hashes = [];
    const p = { at: 0 };
    while (p.at < b.length) {
      p.at += 16;
      for (let c = 0; c < 3; c++) { const n = len(b, p); p.at += n; }
      const n = len(b, p);
      if (p.at + n > b.length) throw new Error('truncated');
      hashes.push(hash('sha256', b.subarray(p.at, p.at + n), 'buffer'));
      p.at += n;
    }
    const out = Buffer.allocUnsafeSlow(32 * hashes.length); // its own memory, never the shared pool: it is transferred
    hashes.forEach((h, i) => h.copy(out, 32 * i));
    parentPort.postMessage({ id, out }, [out.buffer]);
  } catch (err) {
    parentPort.postMessage({ id, error: String(err && err.message || err) });
  }
});
`;

export class BodyHasher {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, { resolve: (b: Buffer) => void; reject: (e: Error) => void }>();
  private nextId = 0;

  /** 32 bytes per record of `page`, in order; rejects on a malformed page or a dead worker. */
  hashPage(page: Buffer): Promise<Buffer> {
    const w = this.start();
    const id = this.nextId++;
    return new Promise<Buffer>((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      w.postMessage({ id, page });
    });
  }

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(SOURCE, { eval: true });
    w.unref();
    w.on('message', (m: { id: number; out?: Uint8Array; error?: string }) => {
      const p = this.pending.get(m.id);
      this.pending.delete(m.id);
      if (!p) return;
      if (m.out) p.resolve(Buffer.from(m.out.buffer, m.out.byteOffset, m.out.byteLength));
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
