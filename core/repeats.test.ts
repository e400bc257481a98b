import { describe, expect, it } from 'vitest';
import type { ClientInfo } from './client.ts';
import { BadTokenError, Repeats, dedupTokenOf } from './repeats.ts';

const client = (address: string, subject?: string): ClientInfo => ({ address, metadata: new Map(), ...(subject ? { auth: { subject, authenticator: 'bearertokenauth', attributes: new Map() } } : {}) });

describe('Repeats', () => {
  it('passes a token on once; a repeat is answered without running again', async () => {
    const r = new Repeats();
    let runs = 0;
    const take = async () => void runs++;
    const k = Repeats.key('logs', client('10.0.0.1'), 'batch-1');
    expect(await r.once(k, take)).toBe(false);
    expect(await r.once(k, take)).toBe(true);
    expect(runs).toBe(1);
    expect(r.repeats).toBe(1);
    // No token: every request runs.
    await r.once(undefined, take);
    await r.once(undefined, take);
    expect(runs).toBe(3);
  });

  it('a repeat while the first is still being taken waits for it and shares its outcome', async () => {
    const r = new Repeats();
    let release!: () => void;
    let runs = 0;
    const slow = () => {
      runs++;
      return new Promise<void>((res) => (release = res));
    };
    const k = Repeats.key('traces', client('10.0.0.1'), 't');
    const first = r.once(k, slow);
    const second = r.once(k, slow);
    release();
    expect(await first).toBe(false);
    expect(await second).toBe(true);
    expect(runs).toBe(1);
  });

  it('a failure is not remembered: the next try runs (and a repeat in flight fails with it)', async () => {
    const r = new Repeats();
    const k = Repeats.key('logs', client('10.0.0.1'), 't');
    let reject!: (e: Error) => void;
    const first = r.once(k, () => new Promise<void>((_, rej) => (reject = rej)));
    const second = r.once(k, async () => undefined);
    reject(new Error('queue full'));
    await expect(first).rejects.toThrow('queue full');
    await expect(second).rejects.toThrow('queue full');
    let ran = false;
    expect(await r.once(k, async () => void (ran = true))).toBe(false);
    expect(ran).toBe(true);
  });

  it('scopes a token to its sender: the same token from another address or subject is new data', async () => {
    const r = new Repeats();
    let runs = 0;
    const take = async () => void runs++;
    await r.once(Repeats.key('logs', client('10.0.0.1'), 'x'), take);
    await r.once(Repeats.key('logs', client('10.0.0.2'), 'x'), take);
    await r.once(Repeats.key('logs', client('10.0.0.1', 'tenant-a'), 'x'), take);
    await r.once(Repeats.key('logs', client('10.0.0.9', 'tenant-b'), 'x'), take);
    // Same subject from another address: the same sender (an agent restarted elsewhere).
    await r.once(Repeats.key('logs', client('10.0.0.7', 'tenant-a'), 'x'), take);
    await r.once(Repeats.key('traces', client('10.0.0.1'), 'x'), take);
    expect(runs).toBe(5);
  });

  it('is bounded: tokens older than the window and past maxTokens are forgotten, oldest first', async () => {
    let now = 0;
    const r = new Repeats({ maxTokens: 2, windowMs: 1000, now: () => now });
    let runs = 0;
    const take = async () => void runs++;
    const k = (t: string) => Repeats.key('logs', client('10.0.0.1'), t);
    await r.once(k('a'), take);
    await r.once(k('b'), take);
    await r.once(k('c'), take); // a forgotten
    expect(await r.once(k('a'), take)).toBe(false);
    expect(await r.once(k('c'), take)).toBe(true);
    now = 5000;
    expect(await r.once(k('c'), take)).toBe(false);
    expect(runs).toBe(5);
  });
});

describe('dedupTokenOf', () => {
  it('takes one printable token; refuses two, empty, control characters, spaces and oversized ones', () => {
    expect(dedupTokenOf(undefined)).toBeUndefined();
    expect(dedupTokenOf([])).toBeUndefined();
    expect(dedupTokenOf(['once:abc/12'])).toBe('once:abc/12');
    for (const bad of [['a', 'b'], [''], ['a b'], ['a\u0000b'], ['tok\r\nx-other: 1'], ['é'], ['x'.repeat(257)]]) {
      expect(() => dedupTokenOf(bad)).toThrow(BadTokenError);
    }
    // gRPC binary metadata values are Buffers: refused, not stringified.
    expect(() => dedupTokenOf([Buffer.from('abc')])).toThrow(BadTokenError);
  });
});
