import { describe, expect, it } from 'vitest';
import { chunkToken, formChunk, parsePlan, planMetadata, type Item } from './chunks.ts';

const items = (offsets: number[], count = 10): Item[] =>
  offsets.map((o) => ({ offset: BigInt(o), timestamp: '1700000000000', data: { resourceLogs: [] }, count }));

describe('kafka receiver chunks', () => {
  it('plans round-trip through offset metadata, only at their own start offset', () => {
    const plan = [
      { start: 42n, end: 99n, done: false },
      { start: 100n, end: 120n, done: true },
      { start: 121n, end: 121n, done: false },
    ];
    const md = planMetadata(plan);
    expect(md).toBe('trailhouse/v1 42-99,100-120+,121-121');
    expect(parsePlan(md, '42')).toEqual(plan);
    expect(parsePlan(md, '100')).toEqual([]);
    expect(planMetadata([])).toBe('');
    expect(parsePlan('', '42')).toEqual([]);
    expect(parsePlan(null, '42')).toEqual([]);
    expect(parsePlan('someone else', '42')).toEqual([]);
    expect(parsePlan('trailhouse/v1 50-40', '50')).toEqual([]);
    expect(parsePlan('trailhouse/v1 50-60,55-70', '50')).toEqual([]);
    expect(parsePlan('trailhouse/v1 50-60', '-1')).toEqual([]);
  });

  it('gathers records up to max_batch_records; a big message is a chunk of its own', () => {
    const split = (list: Item[], max: number) => {
      const out: string[] = [];
      for (let i = 0; i < list.length; ) {
        const to = formChunk(list, i, max);
        out.push(`${list[i]!.offset}-${list[to - 1]!.offset}`);
        i = to;
      }
      return out;
    };
    expect(split(items([0, 1, 2, 3, 4]), 20)).toEqual(['0-1', '2-3', '4-4']);
    const mixed = items([0, 1, 2]);
    mixed[1]!.count = 500;
    expect(split(mixed, 20)).toEqual(['0-0', '1-1', '2-2']);
    expect(split(items([7]), 1)).toEqual(['7-7']);
  });

  it('tokens are deterministic and differ by range, partition and topic incarnation', () => {
    const p = { start: 0n, end: 9n };
    expect(chunkToken('t', 1, p, '1')).toBe(chunkToken('t', 1, { start: 0n, end: 9n }, '1'));
    expect(new Set([chunkToken('t', 1, p, '1'), chunkToken('t', 2, p, '1'), chunkToken('t', 1, { start: 0n, end: 8n }, '1'), chunkToken('t', 1, p, '2')]).size).toBe(4);
  });
});
