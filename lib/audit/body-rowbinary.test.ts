/**
 * The body encoding built from RowBinary bytes (body-rowbinary.ts on the
 * main thread, body-hasher.ts on the worker) against leaf.ts, byte for
 * byte; pages in any order come out by LogIndex.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { BodyHasher } from './body-hasher.ts';
import { bodyEncoding, pageRecords } from './body-rowbinary.ts';
import { bodyBytes, bodyHash, type BodyFields } from './leaf.ts';
import { bodyColumns, leafOf, ORIGIN, row, rowsPage } from './testdata/synthetic-log.ts';
import { leafPrefix } from './verify-rowbinary.ts';

const many: Record<string, string> = {};
for (let k = 0; k < 300; k++) many[`k${(k * 7919) % 300}`] = `v${k}`.repeat(k % 5);

const { action, principal, source, destination, resource, policy, traceId, spanId, details } = row(ORIGIN, 0);
const base: BodyFields = { action, principal, source, destination, resource, policy, traceId, spanId, details };
const bodies: BodyFields[] = [
  base,
  {
    ...base,
    action: 'ü',
    principal: '',
    source: 'spiffe://x/😀',
    resource: 'é'.repeat(100), // a length over 127 bytes: two LEB128 bytes
    traceId: '',
    // U+FFFF sorts after U+1F600 by UTF-16 units, before it by UTF-8 bytes; '' first; 'Z' < 'a' < 'z' < 'é'.
    details: { z: '1', 'é': '2', a: 'ü', '😀': '', Z: 'x', '\uffff': 'bmp', '': 'empty key', long: 'x'.repeat(40) },
  },
  { action: '', principal: '', source: '', destination: '', resource: '', policy: '', traceId: '', spanId: '', details: {} },
  { ...base, principal: 'p'.repeat(300), details: many },
];

const hasher = new BodyHasher();
afterAll(() => hasher.close());

describe('the body encoding from RowBinary', () => {
  it("is leaf.ts's, whatever the order of Details' pairs in the store", () => {
    for (const b of bodies) {
      const keys = Object.keys(b.details);
      for (const order of [keys, [...keys].reverse(), [...keys].sort()]) {
        expect(bodyEncoding(bodyColumns(b, order), 0).toString('hex')).toBe(bodyBytes(b).toString('hex'));
      }
    }
  });

  it('on the worker: records by LogIndex, each with the SHA-256 of its body; the handed-over page comes back whole', async () => {
    const rows = bodies.flatMap((b, k) => [{ ...row(ORIGIN, 10 + 2 * k), ...b }, { ...row(ORIGIN, 11 + 2 * k), ...b, details: Object.fromEntries(Object.entries(b.details).reverse()) }]);
    const shuffled = [...rows.filter((_, k) => k % 3 === 2), ...rows.filter((_, k) => k % 3 !== 2).reverse()];
    const page = rowsPage(shuffled);
    const copy = Buffer.from(page);
    const owned = Buffer.alloc(page.length);
    page.copy(owned);
    const got = await hasher.hashPage(owned, 10, 10 + rows.length, true);
    expect(owned.length).toBe(0); // its memory went to the worker
    expect(got.page.equals(copy)).toBe(true);
    const main = pageRecords(copy, true, 10, 10 + rows.length);
    expect([...got.rows]).toEqual([...main]);
    for (let k = 0; k < rows.length; k++) {
      const at = got.rows[3 * k]!;
      expect(Number(copy.readBigUInt64LE(at))).toBe(10 + k);
      expect(got.bodyHashes.subarray(32 * k, 32 * k + 32).toString('hex')).toBe(bodyHash(rows[k]!).toString('hex'));
      expect(bodyEncoding(copy, got.rows[3 * k + 1]!).toString('hex')).toBe(bodyBytes(rows[k]!).toString('hex'));
    }
    // Records outside the page's range are ordered too (feedRowBinary refuses them).
    const wide = await hasher.hashPage(copy, 0, 12);
    expect([...wide.rows]).toEqual([...main]);
  });

  it("on the worker with a leaf prefix: each row's leaf hash too, leaf.ts's, in LogIndex order", async () => {
    const origin = 'test.example/ü/origin';
    // Headers of every shape: non-ASCII, empty, a service over 127 bytes (two LEB128 bytes), an index beyond 2^32.
    const rows = bodies.flatMap((b, k) => [
      { ...row(origin, 20 + 2 * k), ...b },
      { ...row(origin, 21 + 2 * k), ...b, category: k % 2 ? '' : 'authorización', outcome: 'é', service: 's'.repeat(130 + k) },
    ]);
    const far = { ...row(origin, 2 ** 32 + 5), ...bodies[1]! };
    for (const [page, from, to, want] of [
      [rowsPage([...rows].reverse()), 20, 20 + rows.length, rows],
      [rowsPage([far]), 2 ** 32 + 5, 2 ** 32 + 6, [far]],
    ] as const) {
      const got = await hasher.hashPage(page, from, to, false, leafPrefix(origin));
      expect(got.leaves?.length).toBe(32 * want.length);
      for (let k = 0; k < want.length; k++) {
        expect(got.leaves!.subarray(32 * k, 32 * k + 32).toString('hex')).toBe(leafOf(want[k]!).toString('hex'));
        expect(got.bodyHashes.subarray(32 * k, 32 * k + 32).toString('hex')).toBe(bodyHash(want[k]!).toString('hex'));
      }
    }
    // Without a prefix, no leaves (the main thread makes them).
    expect((await hasher.hashPage(rowsPage(rows), 20, 20 + rows.length)).leaves).toBeUndefined();
  });

  it('refuses a truncated page, on the worker and here', async () => {
    const page = rowsPage([row(ORIGIN, 0), row(ORIGIN, 1)]);
    for (const cut of [page.subarray(0, page.length - 1), page.subarray(0, 20), page.subarray(0, 5)]) {
      expect(() => pageRecords(cut, true, 0, 2)).toThrow(/page ends/);
      await expect(hasher.hashPage(cut, 0, 2)).rejects.toThrow(/page ends/);
    }
  });
});
