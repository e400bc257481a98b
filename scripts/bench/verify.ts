/**
 * `trailhouse verify`'s own cost, without the store: synthetic audit rows
 * and leaf records as the query interface returns them to verify
 * (RowBinary: header and body columns, verify-store.ts; the body encoding
 * built from their bytes on a worker, body-hasher.ts), then checked against signed
 * checkpoints — rows per second, end to end from the HTTP body to the
 * report, and for the verification alone (rows with their body columns).
 *
 *   node --import tsx scripts/bench/verify.ts [--rows 300000] [--page 50000]
 */
import { AuditVerifier } from '../../lib/audit/verify.ts';
import { leavesPage, rowsPage, syntheticLog } from '../../lib/audit/testdata/synthetic-log.ts';
import { feedRowBinary, leafPrefix } from '../../lib/audit/verify-rowbinary.ts';
import { BodyHasher } from '../../lib/audit/body-hasher.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('rows', 300_000);
const PAGE = arg('page', 50_000);

const sizes = [Math.floor(N / 3), Math.floor((2 * N) / 3), N];
const log = syntheticLog(N, sizes);

// What the query interface sends verify for each page.
const rowPages: Buffer[] = [];
const recPages: Buffer[] = [];
for (let a = 0; a < N; a += PAGE) {
  rowPages.push(rowsPage(log.rows.slice(a, a + PAGE)));
  recPages.push(leavesPage(log.leaves.slice(a, a + PAGE)));
}

/** Rows per second of wall time and per second of this process's CPU time (what other load on the machine does not change much). */
const hasher = new BodyHasher();

async function run(parse: boolean): Promise<{ wall: number; cpu: number }> {
  const t0 = process.hrtime.bigint();
  const c0 = process.cpuUsage();
  const v = new AuditVerifier(log.checkpoints, { trustedKeys: [log.vkey] });
  const o = v.origin(log.rows[0]!.origin);
  // As the CLI does: the worker hashes the bodies of the next page while this one is fed.
  // As verify-run.ts does: the worker makes the rows' leaves too.
  const prefix = leafPrefix(log.rows[0]!.origin);
  let next = parse ? hasher.hashPage(rowPages[0]!, 0, PAGE, false, prefix) : undefined;
  for (let p = 0, a = 0; a < N; a += PAGE, p++) {
    if (parse) {
      const hashed = await next!;
      next = p + 1 < rowPages.length ? hasher.hashPage(rowPages[p + 1]!, a + PAGE, a + 2 * PAGE, false, prefix) : undefined;
      feedRowBinary(o, hashed.page, recPages[p]!, Math.min(N, a + PAGE), hashed);
    } else o.feed(log.rows.slice(a, a + PAGE), log.leaves.slice(a, a + PAGE), Math.min(N, a + PAGE));
  }
  const report = v.report();
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const c = process.cpuUsage(c0);
  if (!report.ok || report.summary.rowsValid !== N) throw new Error(`the synthetic log did not verify: ${JSON.stringify(report.summary)}`);
  return { wall: N / s, cpu: N / ((c.user + c.system) / 1e6) }; // cpu: both threads
}

const median = (xs: { wall: number; cpu: number }[]) => ({ wall: xs.map((x) => x.wall).sort((a, b) => a - b)[1]!, cpu: xs.map((x) => x.cpu).sort((a, b) => a - b)[1]! });
const fmt = (r: { wall: number; cpu: number }) => `${Math.round(r.wall).toLocaleString('en')} rows/s (${Math.round(r.cpu).toLocaleString('en')} rows per CPU-second)`;

await run(true); // warm-up
const e2e = median([await run(true), await run(true), await run(true)]);
const core = median([await run(false), await run(false), await run(false)]);
await hasher.close();
console.log(`verify, ${N} rows, 3 checkpoints, pages of ${PAGE}:`);
console.log(`  from the RowBinary pages to report (bodies and leaves hashed on a worker): ${fmt(e2e)}`);
console.log(`  from parsed columns, one thread:                               ${fmt(core)}`);
