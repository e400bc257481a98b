/**
 * Hostile bytes never crash the decoder or the message reader: random and
 * mutated inputs end in a value, Incomplete, MsgpackError or
 * MalformedMessage, nothing else (seeded, so a failure replays).
 */
import { describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { Decoder, Incomplete, MsgpackError } from './msgpack.ts';
import { MalformedMessage, readMessage } from './protocol.ts';
import { arrayOf, eventTime, int, mp } from './testkit.ts';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

const valid = [
  arrayOf(mp('t'), eventTime(1_700_000_000, 5), mp({ log: 'x', n: 1, m: { a: [1, 2] } }), mp({ chunk: 'c' })),
  arrayOf(mp('t'), Buffer.concat([Buffer.from([0x91]), arrayOf(int(1), mp({ message: 'y' }))])),
  arrayOf(mp('t'), mp(Buffer.concat([arrayOf(int(1), mp({ log: 'a' })), arrayOf(eventTime(2, 0), mp({ log: 'b' }))]))),
  arrayOf(mp('t'), mp(gzipSync(arrayOf(int(1), mp({ log: 'z' })))), mp({ compressed: 'gzip' })),
];

async function feed(bytes: Buffer): Promise<string> {
  let v: unknown;
  try {
    v = new Decoder(bytes).decodeMessage();
  } catch (err) {
    if (err instanceof Incomplete) return 'incomplete';
    if (err instanceof MsgpackError) return 'msgpack';
    throw err;
  }
  if (!Array.isArray(v)) return 'not-array';
  try {
    await readMessage(v, { maxDecompressed: 1 << 20, parseJsonBody: true }, 1000);
    return 'ok';
  } catch (err) {
    if (err instanceof MalformedMessage) return 'malformed';
    throw err;
  }
}

describe('fluentforward under random input', () => {
  it('mutated valid messages and random bytes only ever give the expected outcomes', async () => {
    const rand = rng(20);
    const seen = new Set<string>();
    for (let i = 0; i < 4000; i++) {
      let b: Buffer;
      if (i % 4 === 0) b = Buffer.from(Array.from({ length: 1 + Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)));
      else {
        b = Buffer.from(valid[i % valid.length]!);
        const flips = 1 + Math.floor(rand() * 4);
        for (let f = 0; f < flips; f++) b[Math.floor(rand() * b.length)] = Math.floor(rand() * 256);
        if (rand() < 0.3) b = b.subarray(0, Math.floor(rand() * b.length));
      }
      seen.add(await feed(b));
    }
    for (const v of valid) expect(await feed(v)).toBe('ok');
    expect([...seen].sort()).toEqual(expect.arrayContaining(['incomplete', 'malformed', 'msgpack', 'ok']));
  });
});
