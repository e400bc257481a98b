import { afterEach, describe, expect, it } from 'vitest';
import { TimeSlice, walkAll, walkSliced, type PartWalk } from './yield.ts';

const DEFAULT_MS = TimeSlice.ms;
afterEach(() => {
  TimeSlice.ms = DEFAULT_MS;
});

/** A walk that records the order of its parts and of anything else that ran between them. */
function recording(parts: number, log: string[]): PartWalk<string> {
  return { parts, part: (i) => void log.push(`part ${i}`), finish: () => log.join(',') };
}

describe('walkSliced', () => {
  it('runs a walk within its slice synchronously: the result, not a promise', () => {
    TimeSlice.ms = 1e9;
    const log: string[] = [];
    const out = walkSliced(recording(3, log));
    expect(out).toBe('part 0,part 1,part 2');
  });

  it('hands the event loop back between parts once the slice is used, and ends with the same result', async () => {
    TimeSlice.ms = 0;
    const log: string[] = [];
    setImmediate(() => log.push('immediate'));
    const out = walkSliced(recording(3, log));
    expect(out).toBeInstanceOf(Promise);
    expect(log).toEqual(['part 0']);
    // The callback scheduled before the walk ran before the walk's end.
    expect(await out).toBe('part 0,immediate,part 1,part 2');
    expect(walkAll(recording(3, []))).toBe('part 0,part 1,part 2');
  });

  it('a part that throws rejects the walk (or throws, within the slice)', async () => {
    const failing: PartWalk<number> = {
      parts: 2,
      part: (i) => {
        if (i === 1) throw new Error('bad part');
      },
      finish: () => 1,
    };
    TimeSlice.ms = 1e9;
    expect(() => walkSliced(failing)).toThrow('bad part');
    TimeSlice.ms = 0;
    await expect(walkSliced(failing)).rejects.toThrow('bad part');
  });

  it('walks that yielded take turns: one resumes per turn of the event loop, first come first served', async () => {
    TimeSlice.ms = 0;
    let turn = 0;
    let on = true;
    const tick = (): void => {
      turn++;
      if (on) setImmediate(tick);
    };
    setImmediate(tick);
    const seen: string[] = [];
    const walk = (name: string): PartWalk<void> => ({ parts: 3, part: (i) => void seen.push(`${name}${i}@${turn}`), finish: () => undefined });
    await Promise.all([walkSliced(walk('a')), walkSliced(walk('b')), walkSliced(walk('c'))]);
    on = false;
    const turns = seen.map((s) => Number(s.split('@')[1]));
    // The first parts ran at once; every resumed part had a turn of its own, in order.
    expect(seen.slice(0, 3).map((s) => s.split('@')[0])).toEqual(['a0', 'b0', 'c0']);
    expect(seen.slice(3).map((s) => s.split('@')[0])).toEqual(['a1', 'b1', 'c1', 'a2', 'b2', 'c2']);
    const resumed = turns.slice(3);
    expect(new Set(resumed).size).toBe(resumed.length);
    for (let i = 1; i < resumed.length; i++) expect(resumed[i]!).toBeGreaterThan(resumed[i - 1]!);
  });
});
