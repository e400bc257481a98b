/**
 * One `trailhouse verify` in a process of its own, as a user runs it: from
 * the bundle (`npm run build`; dist/trailhouse.mjs, no TypeScript loader),
 * timed from inside (no start-up). Prints one JSON line: seconds, CPU-s of
 * the process and per thread, the exit code and the summary. Used by
 * verify-store.ts; the arguments are verify's.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const { built, inputs } = JSON.parse(readFileSync(join(root, 'dist/build.json'), 'utf8'));
const stale = inputs.find((p) => statSync(join(root, p)).mtimeMs > built);
if (stale) throw new Error(`dist/trailhouse.mjs is older than ${stale}: npm run build`);
const { verifyCommand } = await import(join(root, 'dist/trailhouse.mjs'));

/** CPU seconds per thread of this process (the JS thread as js-main), as scripts/bench/proc.ts counts them. */
function threadCpu() {
  const out = new Map();
  for (const tid of readdirSync('/proc/self/task')) {
    let stat;
    try {
      stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
    } catch {
      continue;
    }
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const name = tid === String(process.pid) ? 'js-main' : comm === 'node' ? 'node-helpers' : comm;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(name, (out.get(name) ?? 0) + (Number(f[11]) + Number(f[12])) / 100);
  }
  return out;
}

const out = [];
const err = [];
const t0 = threadCpu();
const c0 = process.cpuUsage();
const w0 = process.hrtime.bigint();
const code = await verifyCommand(process.argv.slice(2), { out: (s) => void out.push(s), err: (s) => void err.push(s) });
const s = Number(process.hrtime.bigint() - w0) / 1e9;
const c = process.cpuUsage(c0);
const threads = {};
for (const [k, v] of threadCpu()) if (v - (t0.get(k) ?? 0) >= 0.05) threads[k] = +(v - (t0.get(k) ?? 0)).toFixed(2);
const live = Object.values(threads).reduce((a, b) => a + b, 0);
const cpu = (c.user + c.system) / 1e6;
let summary;
try {
  summary = JSON.parse(out.join('')).summary;
} catch {
  summary = undefined;
}
console.log(JSON.stringify({ code, s, cpu, threads: { ...threads, ended: +(cpu - live).toFixed(2) }, summary, err: err.join('').slice(0, 500) }));
