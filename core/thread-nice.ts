/**
 * A thread's own scheduling priority. On Linux the nice value belongs to a
 * thread, not the process (setpriority(PRIO_PROCESS, 0) changes only the
 * calling thread), and a thread inherits its creator's: the pipeline thread
 * lowers its own, and the engine's threads it starts afterwards run at the
 * same. Elsewhere the call would lower the whole process, so nothing is done.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/**
 * Raises the calling thread's nice value by `by` steps (like `nice -n`),
 * capped at 19; raising never needs a privilege. Returns the value now, or
 * undefined where a thread's own priority cannot be set (not Linux).
 */
export function niceThisThread(by: number): number | undefined {
  if (process.platform !== 'linux') return undefined;
  const now = getPriority();
  const want = Math.min(19, now + Math.max(0, Math.trunc(by)));
  if (want !== now) setPriority(want);
  return getPriority();
}

/** The process's threads other than the main thread that are not Node's own (`node`: libuv's pool, V8's helpers). */
function otherNamedThreads(): number[] {
  const out: number[] = [];
  let tids: string[];
  try {
    tids = readdirSync('/proc/self/task');
  } catch {
    return out;
  }
  for (const t of tids) {
    const tid = Number(t);
    if (tid === process.pid) continue;
    let comm: string;
    try {
      comm = readFileSync(`/proc/self/task/${t}/comm`, 'utf8').trim();
    } catch {
      continue; // ended meanwhile
    }
    if (comm !== 'node') out.push(tid);
  }
  return out;
}

/**
 * Brings the engine's threads (every thread with a name of its own: chDB
 * names its pools) to at least `nice`: some are started before the pipeline
 * thread lowered its priority, from threads that had not. A thread set to
 * run ahead (a negative value, the engine's own choice) is left as it is.
 * Returns how many were changed (Linux; elsewhere 0).
 */
export function niceNamedThreads(nice: number): number {
  if (process.platform !== 'linux') return 0;
  let changed = 0;
  for (const tid of otherNamedThreads()) {
    try {
      const now = getPriority(tid);
      if (now < 0 || now >= nice) continue;
      setPriority(tid, nice);
      changed++;
    } catch {
      // The thread ended between the listing and here.
    }
  }
  return changed;
}
