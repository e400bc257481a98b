import { describe, expect, it } from 'vitest';
import { chunkToken, nextChunk, parsePlan, planMetadata, type Item } from './chunks.ts';

const items = (offsets: number[], count = 10): Item[] =>
  offsets.map((o) => ({ offset: BigInt(o), timestamp: '1700000000000', data: { resourceLogs: [] }, count }));

/** Splits `list` into chunks the way the receiver does, from a recorded plan if any. */
function chunks(list: Item[], max: number, plan: ReturnType<typeof parsePlan> = null) {
  const out: string[] = [];
  let i = 0;
  while (i < list.length) {
    const n = nextChunk(list, i, plan, max);
    if (n.kind === 'incomplete') {
      out.push('incomplete');
      break;
    }
    out.push(`${n.plan.start}-${n.plan.end}${n.planned ? '*' : ''}`);
    plan = null;
    i = n.to;
  }
  return out;
}

describe('kafka receiver chunks', () => {
  it('plans round-trip through offset metadata, only at their own start offset', () => {
    const md = planMetadata({ start: 42n, end: 99n });
    expect(parsePlan(md, '42')).toEqual({ start: 42n, end: 99n });
    expect(parsePlan(md, '100')).toBeNull();
    expect(parsePlan('', '42')).toBeNull();
    expect(parsePlan(null, '42')).toBeNull();
    expect(parsePlan('someone else', '42')).toBeNull();
    expect(parsePlan('trailhouse/v1 50-40', '50')).toBeNull();
  });

  it('groups records up to max_batch_records; a big message is a chunk of its own', () => {
    expect(chunks(items([0, 1, 2, 3, 4]), 20)).toEqual(['0-1', '2-3', '4-4']);
    const mixed = items([0, 1, 2]);
    mixed[1]!.count = 500;
    expect(chunks(mixed, 20)).toEqual(['0-0', '1-1', '2-2']);
  });

  it('re-forms a recorded chunk whatever the fetch boundaries are', () => {
    // The first run planned 5-12 (8 messages) before crashing.
    const plan = parsePlan(planMetadata({ start: 5n, end: 12n }), '5');
    // After restart, fetches return 5..7 first, then 5..20 once more arrive.
    expect(chunks(items([5, 6, 7]), 20, plan)).toEqual(['incomplete']);
    expect(chunks(items([5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]), 20, plan)).toEqual(['5-12*', '13-14', '15-15']);
    // Offsets may have gaps (control records): a later offset proves completeness.
    expect(chunks(items([5, 6, 13, 14]), 20, plan)).toEqual(['5-12*', '13-14']);
  });

  it('tokens are deterministic and differ by range, partition and topic incarnation', () => {
    const p = { start: 0n, end: 9n };
    expect(chunkToken('t', 1, p, '1')).toBe(chunkToken('t', 1, { start: 0n, end: 9n }, '1'));
    expect(new Set([chunkToken('t', 1, p, '1'), chunkToken('t', 2, p, '1'), chunkToken('t', 1, { start: 0n, end: 8n }, '1'), chunkToken('t', 1, p, '2')]).size).toBe(4);
  });
});
