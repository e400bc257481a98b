import { describe, expect, it } from 'vitest';
import { checkpointText, parseCheckpoint, validOrigin } from './checkpoint.ts';
import { EMPTY_ROOT, leafHash } from './hash.ts';

const ROOT = leafHash(Buffer.from('root'));
const R64 = ROOT.toString('base64');

describe('checkpoint body (C2SP tlog-checkpoint)', () => {
  it('writes origin, size, base64 root and our time line, and parses back', () => {
    const time = new Date('2026-12-07T11:02:13.045Z');
    const text = checkpointText({ origin: 'host-1/trailhouse/audit', size: 1234, root: ROOT, time });
    expect(text).toBe(`host-1/trailhouse/audit\n1234\n${R64}\ntime 2026-12-07T11:02:13.045Z\n`);
    expect(parseCheckpoint(text)).toEqual({ origin: 'host-1/trailhouse/audit', size: 1234, root: ROOT, time });
    expect(checkpointText({ origin: 'o', size: 0, root: EMPTY_ROOT })).toBe(`o\n0\n${EMPTY_ROOT.toString('base64')}\n`);
    expect(parseCheckpoint(`o\n0\n${EMPTY_ROOT.toString('base64')}\n`)).toEqual({ origin: 'o', size: 0, root: EMPTY_ROOT });
    expect(parseCheckpoint(checkpointText({ origin: 'o', size: 2 ** 53 - 1, root: ROOT })).size).toBe(2 ** 53 - 1);
  });

  it('ignores unknown extension lines', () => {
    expect(parseCheckpoint(`o\n5\n${R64}\nwitness w.example 12\ntime 2026-01-02T03:04:05.006Z\nsomething else\n`)).toEqual({
      origin: 'o', size: 5, root: ROOT, time: new Date('2026-01-02T03:04:05.006Z'),
    });
  });

  const bad: [string, string, RegExp][] = [
    ['no final newline', `o\n5\n${R64}`, /newline/],
    ['two lines', `o\n5\n`, /at least/],
    ['leading zero', `o\n05\n${R64}\n`, /leading zeros/],
    ['negative size', `o\n-5\n${R64}\n`, /size/],
    ['size with a plus', `o\n+5\n${R64}\n`, /size/],
    ['exponent size', `o\n5e3\n${R64}\n`, /size/],
    ['size beyond 2^53', `o\n9007199254740993\n${R64}\n`, /2\^53/],
    ['31-byte root', `o\n5\n${ROOT.subarray(1).toString('base64')}\n`, /32 bytes/],
    ['root without padding', `o\n5\n${R64.replace(/=+$/, '')}\n`, /canonical base64/],
    ['root in hex', `o\n5\n${ROOT.toString('hex')}\n`, /canonical base64/],
    ['origin with a space', `my log\n5\n${R64}\n`, /origin/],
    ['origin with +', `a+b\n5\n${R64}\n`, /origin/],
    ['origin with @', `a@b\n5\n${R64}\n`, /origin/],
    ['empty origin', `\n5\n${R64}\n`, /origin/],
    ['CRLF', `o\r\n5\r\n${R64}\r\n`, /origin/],
    ['empty extension line', `o\n5\n${R64}\n\n`, /empty extension/],
    ['two time lines', `o\n5\n${R64}\ntime 2026-01-02T03:04:05.006Z\ntime 2026-01-02T03:04:05.007Z\n`, /two time/],
    ['time without ms', `o\n5\n${R64}\ntime 2026-01-02T03:04:05Z\n`, /milliseconds/],
    ['time with offset', `o\n5\n${R64}\ntime 2026-01-02T03:04:05.006+01:00\n`, /milliseconds/],
    ['impossible date', `o\n5\n${R64}\ntime 2026-02-30T03:04:05.006Z\n`, /milliseconds/],
    ['bare time', `o\n5\n${R64}\ntime\n`, /milliseconds/],
  ];
  for (const [what, text, why] of bad) {
    it(`refuses: ${what}`, () => expect(() => parseCheckpoint(text)).toThrow(why));
  }

  it('checkpointText refuses what parseCheckpoint would', () => {
    expect(() => checkpointText({ origin: 'a b', size: 1, root: ROOT })).toThrow(/origin/);
    expect(() => checkpointText({ origin: 'o', size: -1, root: ROOT })).toThrow(/size/);
    expect(() => checkpointText({ origin: 'o', size: 1.5, root: ROOT })).toThrow(/size/);
    expect(() => checkpointText({ origin: 'o', size: 1, root: Buffer.alloc(16) })).toThrow(/32-byte/);
    expect(() => checkpointText({ origin: 'o', size: 1, root: ROOT, time: new Date(NaN) })).toThrow(/valid Date/);
    expect(() => checkpointText({ origin: 'o', size: 1, root: ROOT, time: new Date(Date.UTC(10000, 0, 1)) })).toThrow(/years/);
  });

  it('validOrigin', () => {
    for (const o of ['a', 'host.example/trailhouse/audit', 'h/t/audit/topic/3', 'a:b_c-d', 'x'.repeat(256)]) expect(validOrigin(o), o).toBe(true);
    for (const o of ['', 'a b', 'a+b', 'a@b', 'x'.repeat(257), 'ü', 'a\n']) expect(validOrigin(o), o).toBe(false);
  });
});
