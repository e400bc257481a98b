/**
 * The JavaScript memory of this process's other threads (the pipeline
 * thread, core/pipeline-thread.ts), as they last reported it.
 * `process.memoryUsage()` counts the calling thread's heap and buffers only,
 * and the memory limiter in front of the spool must see what the thread
 * behind it holds (correlate's window): it adds these figures to its own.
 */
/** One thread's figures, from its `process.memoryUsage()`. */
export interface ThreadMemory {
  heapUsed: number;
  heapTotal: number;
  /** Buffers and ArrayBuffers. */
  external: number;
}

const threads = new Map<string, { m: ThreadMemory; collect: () => void }>();

/** A thread's latest figures, and how to ask it for a full collection. */
export function setThreadMemory(thread: string, m: ThreadMemory, collect: () => void): void {
  threads.set(thread, { m, collect });
}

/** The thread ended: its memory is no longer the process's. */
export function dropThreadMemory(thread: string): void {
  threads.delete(thread);
}

/** What the memory limiter counts of the other threads: heap used plus external memory. */
export function otherThreadsMemory(): number {
  let sum = 0;
  for (const t of threads.values()) sum += t.m.heapUsed + t.m.external;
  return sum;
}

/** The other threads' figures summed (the process metrics report the whole process). */
export function otherThreadsTotals(): ThreadMemory {
  const sum: ThreadMemory = { heapUsed: 0, heapTotal: 0, external: 0 };
  for (const { m } of threads.values()) {
    sum.heapUsed += m.heapUsed;
    sum.heapTotal += m.heapTotal;
    sum.external += m.external;
  }
  return sum;
}

/** Asks every other thread for a full collection (they report the result with their next figure). */
export function collectOtherThreads(): void {
  for (const t of threads.values()) t.collect();
}
