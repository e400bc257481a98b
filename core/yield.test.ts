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
});
