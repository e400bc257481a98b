/**
 * bcrypt comparisons off the event loop. bcryptjs is pure JavaScript and its
 * async API still runs in 100 ms slices on the calling thread, so a stream
 * of failed logins (from many sources, past the per-source throttle) would
 * stall every receiver's acknowledgements. Here they run one at a time on a
 * worker thread, started on first use; at most `maxPending` wait, beyond
 * which `compare` answers null (the caller answers 503 + Retry-After) rather
 * than queueing without bound.
 *
 * The worker is plain CommonJS evaluated from a string (not a .ts module),
 * so it needs no TypeScript loader in the worker.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

const bcryptPath = createRequire(import.meta.url).resolve('bcryptjs');

const SOURCE = `
const { parentPort } = require('node:worker_threads');
const bcrypt = require(${JSON.stringify(bcryptPath)});
parentPort.on('message', (m) => {
  let ok = false;
  try { ok = bcrypt.compareSync(m.password, m.hash); } catch { ok = false; }
  parentPort.postMessage({ id: m.id, ok });
});
`;

export type Compare = (password: string, hash: string) => Promise<boolean> | null;

export class BcryptWorker {
  private worker: Worker | undefined;
  private readonly pending = new Map<number, (ok: boolean) => void>();
  private nextId = 0;

  constructor(private readonly maxPending = 64) {}

  readonly compare: Compare = (password, hash) => {
    if (this.pending.size >= this.maxPending) return null;
    const w = this.start();
    const id = this.nextId++;
    return new Promise<boolean>((resolve) => {
      this.pending.set(id, resolve);
      w.postMessage({ id, password, hash });
    });
  };

  private start(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(SOURCE, { eval: true });
    // Not a reason to keep the process alive.
    w.unref();
    w.on('message', (m: { id: number; ok: boolean }) => {
      const r = this.pending.get(m.id);
      this.pending.delete(m.id);
      r?.(m.ok === true);
    });
    const fail = () => {
      // A dead worker fails what it held (as wrong passwords: fail closed); the next compare starts another.
      if (this.worker !== w) return;
      this.worker = undefined;
      this.failPending();
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
    this.failPending();
  }

  private failPending(): void {
    for (const r of this.pending.values()) r(false);
    this.pending.clear();
  }
}
