// Sink.strBytes copies short strings four bytes at a time through DataViews:
// every length and alignment must give the bytes a plain copy gives, across
// sink growth and sources that are views into a larger buffer.
import { describe, expect, it } from 'vitest';
import { Sink } from './native.ts';

describe('Sink.strBytes', () => {
  it('writes varint length + the bytes for every length and offset, growing as it goes', () => {
    const pool = Buffer.alloc(4096);
    for (let i = 0; i < pool.length; i++) pool[i] = (i * 131 + 7) & 0xff;
    // A source that starts inside a larger ArrayBuffer (as a pooled Buffer does).
    const src = pool.subarray(3, 3000);
    const other = Buffer.from('another source, to switch views between copies');
    const sink = new Sink(1);
    const want: number[] = [];
    const len = (n: number) => {
      for (; n >= 0x80; n >>>= 7) want.push((n & 0x7f) | 0x80);
      want.push(n);
    };
    for (let n = 0; n <= 300; n += n < 40 ? 1 : 37) {
      for (const start of [0, 1, 2, 3, 5, 250]) {
        sink.strBytes(src, start, start + n);
        len(n);
        for (let k = start; k < start + n; k++) want.push(src[k]!);
        sink.strBytes(other, 2, 9);
        len(7);
        for (let k = 2; k < 9; k++) want.push(other[k]!);
      }
    }
    expect(Buffer.from(sink.data).equals(Buffer.from(want))).toBe(true);
  });
});
