/**
 * The JavaScript memory of this process's other threads (the pipeline
 * thread, core/pipeline-thread.ts), as they last reported it.
 * `process.memoryUsage()` counts the calling thread's heap and buffers only,
 * and the memory limiter in front of the spool must see what the thread
 * behind it holds (correlate's window): it adds these figures to its own.
 */
const threads = new Map<string, { bytes: number; collect: () => void }>();

/** A thread's latest heap used plus external memory, and how to ask it for a full collection. */
export function setThreadMemory(thread: string, bytes: number, collect: () => void): void {
  threads.set(thread, { bytes, collect });
}

/** The thread ended: its memory is no longer the process's. */
export function dropThreadMemory(thread: string): void {
  threads.delete(thread);
}

export function otherThreadsMemory(): number {
  let sum = 0;
  for (const t of threads.values()) sum += t.bytes;
  return sum;
}

/** Asks every other thread for a full collection (they report the result with their next figure). */
export function collectOtherThreads(): void {
  for (const t of threads.values()) t.collect();
}
