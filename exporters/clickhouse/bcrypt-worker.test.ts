/** bcrypt off the event loop, bounded. */
import { afterEach, describe, expect, it } from 'vitest';
import bcrypt from 'bcryptjs';
import { BcryptWorker } from './bcrypt-worker.ts';
import { BUSY, UserDirectory } from './query-users.ts';

let w: BcryptWorker | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

describe('BcryptWorker', () => {
  it('compares on a worker thread, leaving the event loop free', async () => {
    w = new BcryptWorker();
    const hash = bcrypt.hashSync('right', 12);
    let last = performance.now();
    let maxGap = 0;
    const tick = setInterval(() => {
      const now = performance.now();
      maxGap = Math.max(maxGap, now - last);
      last = now;
    }, 5);
    const began = performance.now();
    try {
      expect(await w.compare('right', hash)).toBe(true);
      expect(await w.compare('wrong', hash)).toBe(false);
    } finally {
      clearInterval(tick);
    }
    // Two cost-12 comparisons: bcryptjs on this thread would stall it in 100 ms slices.
    expect(performance.now() - began).toBeGreaterThan(150);
    expect(maxGap).toBeLessThan(90);
    expect(await w.compare('x', 'not a hash')).toBe(false);
  });

  it('answers null past maxPending instead of queueing without bound; the directory says BUSY', async () => {
    w = new BcryptWorker(2);
    const hash = bcrypt.hashSync('right', 10);
    const a = w.compare('a', hash);
    const b = w.compare('b', hash);
    expect(w.compare('c', hash)).toBeNull();
    expect(await Promise.all([a, b])).toEqual([false, false]);
    const d = new UserDirectory({ sre: { password_bcrypt_hash: hash, password_sha256_hex: null, role: 'reader' } }, { compare: () => null });
    expect(await d.verify('sre', 'right')).toBe(BUSY);
    expect(await d.verify('nobody', 'x')).toBe(BUSY);
  });

  it('fails closed when closed with comparisons waiting', async () => {
    w = new BcryptWorker();
    const p = w.compare('right', bcrypt.hashSync('right', 12));
    await w.close();
    expect(await p).toBe(false);
  });
});
