/** Per-process CPU and memory figures of a child process, from Linux /proc. */
import { readdirSync, readFileSync } from 'node:fs';

/** utime + stime of a process, in seconds (Linux /proc). */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100; // clock ticks (USER_HZ = 100)
}

/** CPU seconds per thread name (comm) of a process; chDB's pools show as ThreadPool, MergeMutate, … */
export function threadCpu(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread ended between the listing and the read
    }
    // The JS thread is the one whose id is the pid; other "node" threads are libuv's pool (fs, fsync, zlib) and V8's (GC, compiler).
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')')).replace(/[\d:]+$/, '') || 'other';
    const name = tid === String(pid) ? 'js-main' : comm === 'node' ? 'node-helpers' : comm;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) / 100);
  }
  return out;
}

export function threadDelta(a: Map<string, number>, b: Map<string, number>): Record<string, number> {
  const d: Array<[string, number]> = [];
  for (const [k, v] of b) {
    const x = v - (a.get(k) ?? 0);
    if (x >= 0.05) d.push([k, +x.toFixed(2)]);
  }
  return Object.fromEntries(d.sort((x, y) => y[1] - x[1]));
}

export function peakRssMiB(pid: number): number {
  const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Math.round(Number(m[1]) / 1024) : 0;
}
