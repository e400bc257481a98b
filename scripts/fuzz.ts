/**
 * `npm run fuzz` — a long seeded mutation fuzz of every receiver format.
 *
 *   npm run fuzz -- [--cases N] [--seed S] [--format F[,F…]|otlp|zipkin|jaeger] [--timeout MS] [--out DIR]
 *   npm run fuzz -- --format F --replay 0xCASESEED     # one case again, input written to DIR
 *
 * Prints cases/s per format and every failure with its case seed, the
 * mutations, a hex dump, and the full input as DIR/<format>-<caseSeed>.bin.
 * Exits 1 when anything failed.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { describe, fuzzFormat, runCase, trapCrashes, type Failure } from '../test/fuzz/harness.ts';
import { startRig, type Group } from '../test/fuzz/rig.ts';

const { values: a } = parseArgs({
  options: {
    cases: { type: 'string', default: '20000' },
    seed: { type: 'string' },
    format: { type: 'string', default: 'all' },
    timeout: { type: 'string', default: '5000' },
    out: { type: 'string', default: 'fuzz-failures' },
    replay: { type: 'string' },
  },
});

const GROUPS: Group[] = ['otlp', 'zipkin', 'jaeger'];
const wanted = a.format!.split(',');
const groups = GROUPS.filter((g) => wanted.includes('all') || wanted.includes(g) || wanted.some((w) => w.startsWith(g)));
const runSeed = a.seed !== undefined ? Number(a.seed) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
const save = (f: Failure) => {
  mkdirSync(a.out!, { recursive: true });
  const file = path.join(a.out!, `${f.format}-${f.caseSeed}.bin`);
  writeFileSync(file, f.input);
  return file;
};

trapCrashes();
const rig = await startRig(groups);
const formats = rig.formats.filter((f) => wanted.includes('all') || wanted.includes(f.group) || wanted.includes(f.name));
let failed = 0;
try {
  if (a.replay) {
    const fmt = formats[0];
    if (!fmt || formats.length !== 1) throw new Error('--replay needs exactly one --format');
    const r = await runCase(fmt, Number(a.replay) >>> 0, Number(a.timeout));
    const f: Failure = { format: fmt.name, caseSeed: a.replay, reason: r.reason ?? `passed (${r.answer})`, mutations: r.log.join(' '), input: r.input };
    console.log(describe(f));
    console.log(`  written to ${save(f)}`);
    failed = r.reason ? 1 : 0;
  } else {
    console.log(`fuzz run seed ${runSeed} (replay the run with --seed ${runSeed}), ${a.cases} cases per format`);
    for (const fmt of formats) {
      const st = await fuzzFormat(fmt, {
        runSeed,
        cases: Number(a.cases),
        timeoutMs: Number(a.timeout),
        onFailure: (f) => console.log(`\nFAIL ${describe(f)}\n  written to ${save(f)}\n`),
      });
      failed += st.failures.length;
      const answers = Object.entries(st.answers).sort((x, y) => y[1] - x[1]).map(([k, v]) => `${k}:${v}`).join(' ');
      console.log(`${fmt.name.padEnd(24)} ${String(st.cases).padStart(7)} cases ${(st.cases / (st.ms / 1000)).toFixed(0).padStart(6)} cases/s  slowest ${st.slowest.ms.toFixed(0)} ms (${st.slowest.caseSeed})  failures ${st.failures.length}  [${answers}]`);
    }
  }
} finally {
  await rig.close();
}
console.log(failed ? `${failed} failure(s)` : 'no failures');
process.exit(failed ? 1 : 0);
