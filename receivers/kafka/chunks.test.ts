import { describe, expect, it } from 'vitest';
import { decodeLogsProto, encodeLogsProto } from '../../core/otlp/index.ts';
import { sampleLogs } from '../../test/helpers.ts';
import { chunkToken, formChunk, mergePayloads, parsePlan, planMetadata, RecentIds, type Item } from './chunks.ts';
import { Payload } from '../../core/payload.ts';

const items = (offsets: number[], count = 10): Item[] =>
  offsets.map((o) => ({ offset: BigInt(o), timestamp: '1700000000000', data: Payload.logs({ resourceLogs: [] }), count }));

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

  it('recognises a second copy of a message id within the window, the same way when asked again', () => {
    const mk = (offset: number, id?: string): Item => ({ offset: BigInt(offset), timestamp: '1', data: Payload.logs({ resourceLogs: [] }), count: 1, id });
    const r = new RecentIds(3);
    const seq = [mk(0, 'a/0'), mk(1, 'a/1'), mk(2), mk(3, 'a/0'), mk(4, 'b/0'), mk(5, 'c/0'), mk(6, 'd/0'), mk(7, 'a/1')];
    expect(seq.map((it) => r.note(it))).toEqual([false, false, false, true, false, false, false, false]);
    // a/1 at 7: its first copy (offset 1) fell out of the 3-message window.
    expect(seq.map((it) => !!it.dup)).toEqual([false, false, false, true, false, false, false, false]);
    // Fetched again after a pause (soon, within the window): same answers, nothing counted twice.
    const r2 = new RecentIds(3);
    for (const it of [mk(0, 'a/0'), mk(1, 'a/1'), mk(2, 'a/0'), mk(3, 'b/0')]) r2.note(it);
    const again = mk(2, 'a/0');
    expect(r2.note(again)).toBe(false);
    expect(again.dup).toBe(true);
    const orig = mk(3, 'b/0');
    r2.note(orig);
    expect(orig.dup).toBe(false);
    // A duplicate counts 0 records when chunks are formed.
    expect(formChunk([mk(10, 'x'), { ...mk(11, 'x'), dup: true, count: 500 }, mk(12)], 0, 2)).toBe(3);
  });

  it('a chunk of messages not decoded yet is one payload of their bytes; duplicates and bad ones left out', () => {
    const bytes = [encodeLogsProto(sampleLogs(2, 'a')), encodeLogsProto(sampleLogs(3, 'b')), encodeLogsProto(sampleLogs(4, 'c'))];
    const list: Item[] = bytes.map((b, i) => ({ offset: BigInt(i), timestamp: '1', data: Payload.scan('logs', b), count: 0 }));
    list[1]!.dup = true;
    list.push({ offset: 3n, timestamp: '1', data: null, count: 0 });
    const merged = mergePayloads('logs', list);
    expect(merged.content.kind).toBe('bytes');
    expect(merged.count).toBe(6);
    expect(merged.bytes()).toEqual([bytes[0], bytes[2]]);
    const want = [...decodeLogsProto(bytes[0]!).resourceLogs, ...decodeLogsProto(bytes[2]!).resourceLogs];
    expect(merged.records().resourceLogs).toEqual(want);
    // Once encoded, an exporter lets the records go; read again, they are built again.
    expect(merged.release()).toBe(true);
    expect(merged.content.kind).toBe('bytes');
    expect(merged.records().resourceLogs).toEqual(want);
    // A decoded message among them: an ordinary payload of records.
    const decoded: Item = { offset: 4n, timestamp: '1', data: Payload.logs(sampleLogs(1, 'd')), count: 1 };
    const mixed = mergePayloads('logs', [list[0]!, decoded]);
    expect(mixed.content.kind).toBe('records');
    expect(mixed.count).toBe(3);
    expect(mixed.release()).toBe(false);
  });

  it('records are let go only while the bytes still describe them', () => {
    const b = encodeLogsProto(sampleLogs(2));
    const replaced = Payload.scan('logs', b);
    replaced.setRecords(sampleLogs(5));
    expect(replaced.release()).toBe(false);
    expect(replaced.count).toBe(5);
    const stripped = Payload.scan('logs', b);
    stripped.recordsToChange(); // a processor that may change records took them
    expect(stripped.bytes()).toBeUndefined();
    expect(stripped.release()).toBe(false);
  });
});
