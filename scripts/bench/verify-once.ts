/**
 * One `trailhouse verify` in a process of its own, as a user runs it, timed
 * from inside (no start-up): prints one JSON line — seconds, CPU-s of the
 * process and per thread, the exit code and the summary. Used by
 * verify-store.ts --fresh; the arguments are verify's.
 */
import { verifyCommand } from '../../bin/commands/verify.ts';
import { threadCpu, threadDelta } from './proc.ts';

const out: string[] = [];
const err: string[] = [];
const t0 = threadCpu(process.pid);
const c0 = process.cpuUsage();
const w0 = process.hrtime.bigint();
const code = await verifyCommand(process.argv.slice(2), { out: (s) => void out.push(s), err: (s) => void err.push(s) });
const s = Number(process.hrtime.bigint() - w0) / 1e9;
const c = process.cpuUsage(c0);
const threads = threadDelta(t0, threadCpu(process.pid));
const live = Object.values(threads).reduce((a, b) => a + b, 0);
const cpu = (c.user + c.system) / 1e6;
let summary: unknown;
try {
  summary = (JSON.parse(out.join('')) as { summary: unknown }).summary;
} catch {
  summary = undefined;
}
console.log(JSON.stringify({ code, s, cpu, threads: { ...threads, ended: +(cpu - live).toFixed(2) }, summary, err: err.join('').slice(0, 500) }));
