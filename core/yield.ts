/**
 * Long synchronous work handing the event loop back now and then, so the
 * receivers sharing the thread still answer senders promptly (DESIGN.md,
 * "Long work yields").
 *
 * A stage that walks a payload part by part (a part is one original
 * request, hundreds of records) asks its TimeSlice between parts; the slice
 * yields (waits for its turn: I/O callbacks, timers and other walks go
 * first) only once it has run for `TimeSlice.ms`, so a payload that takes
 * less than that costs one clock read per part and never waits.
 */

export class TimeSlice {
  /**
   * Milliseconds of work between yields, process-wide. Tests set 0 to make
   * every part boundary a yield (behaviour, not timing), then restore it.
   */
  static ms = 1;

  private start = performance.now();

  /** Whether the slice is used up (the caller should yield before going on). */
  get due(): boolean {
    return performance.now() - this.start >= TimeSlice.ms;
  }

  /** Yields (see nextTurn) if the slice is used up, and starts a new slice after it. */
  async maybeYield(): Promise<void> {
    if (!this.due) return;
    await nextTurn();
    this.start = performance.now();
  }
}

/** Walks waiting for their turn, first come first served. */
const waiting: (() => void)[] = [];
let scheduled = false;

function resumeOne(): void {
  const next = waiting.shift();
  if (waiting.length) setImmediate(resumeOne);
  else scheduled = false;
  next?.();
}

/**
 * Resolves on a later turn of the event loop, one waiter per turn: walks
 * that yielded take turns, so a turn runs I/O callbacks and at most one
 * resumed slice (not one slice per walk in progress), and the work queued
 * behind the receivers' callbacks stays about one slice long however many
 * payloads are being walked.
 */
export function nextTurn(): Promise<void> {
  return new Promise<void>((resolve) => {
    waiting.push(resolve);
    if (!scheduled) {
      scheduled = true;
      setImmediate(resumeOne);
    }
  });
}

/** Something done part by part: `part(i)` for each part in order, then `finish()`. */
export interface PartWalk<T> {
  readonly parts: number;
  part(i: number): void;
  finish(): T;
}

/** Runs `w` through in one go (no yielding): the synchronous path and the reference for the sliced one. */
export function walkAll<T>(w: PartWalk<T>): T {
  for (let i = 0; i < w.parts; i++) w.part(i);
  return w.finish();
}

/**
 * Runs `w` part by part, yielding between parts whenever `slice` is used
 * up; the per-part work is the same as walkAll's, so the result is too.
 * Synchronous until the slice is used up: a payload done within one slice
 * returns its result directly (no promise, no turn of the microtask queue),
 * a longer one returns a promise of it.
 */
export function walkSliced<T>(w: PartWalk<T>, slice: TimeSlice = new TimeSlice()): T | Promise<T> {
  for (let i = 0; i < w.parts; i++) {
    if (i > 0 && slice.due) return walkRest(w, i, slice);
    w.part(i);
  }
  return w.finish();
}

async function walkRest<T>(w: PartWalk<T>, from: number, slice: TimeSlice): Promise<T> {
  for (let i = from; i < w.parts; i++) {
    await slice.maybeYield();
    w.part(i);
  }
  return w.finish();
}
