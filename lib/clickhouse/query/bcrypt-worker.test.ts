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
  it('compares on a worker thread, not on the event loop', async () => {
    w = new BcryptWorker();
    const hash = bcrypt.hashSync('right', 12);
    expect(await w.compare('wrong', hash)).toBe(false); // the worker is up
    // While this thread is busy, the comparison (~400 ms of CPU at cost 12)
    // finishes elsewhere; on this thread it would only begin afterwards.
    const p = w.compare('right', hash)!;
    const busyUntil = performance.now() + 2000;
    while (performance.now() < busyUntil) {
      // hold the event loop
    }
    const freed = performance.now();
    expect(await p).toBe(true);
    expect(performance.now() - freed).toBeLessThan(250);
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
