/**
 * `trailhouse verify` end to end on the embedded engine, as a user runs it:
 * N synthetic audit rows appended through the signed log (lib/audit/log.ts,
 * its own origin and witness) into a store in a temporary directory, one
 * checkpoint; then a pipeline serving that store (`trailhouse run`, a child
 * process: its query interface and engine) and each `trailhouse verify` in
 * a process of its own (verify-once.mjs, from the bundle as a user runs it: `npm run build` first), timed from inside it — HTTP, the
 * engine reading the pages, building and hashing the body encodings, tree;
 * a user's verify starts cold, without the heap this bench built writing
 * the rows. `--in-bench`: verify in this process instead (its collector
 * then works through that heap too). `--in-process`: the pipeline in this
 * process too (one event loop serves the pages and verifies them).
 *
 * `--workload`: the rows are the audit events of the bench's mesh traffic
 * (scripts/bench/workload.ts, classified as the audit processor does:
 * bodies of ~440 bytes, ~9 details keys in the classifier's order) instead
 * of the synthetic rows (~250 bytes, 3 keys already sorted).
 *
 * `--hash-locally`: verify reads the body columns and hashes them itself
 * (its --hash-locally) instead of taking the store's body hashes.
 *
 *   node --import tsx scripts/bench/verify-store.ts [--rows 200000] [--runs 5] [--in-bench | --in-process] [--workload] [--hash-locally] [--cpu-prof DIR]
 */
import { join } from 'node:path';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { AuditLog } from '../../lib/audit/log.ts';
import { FileWitness } from '../../lib/audit/witness.ts';
import type { AuditRow } from '../../lib/audit/schema.ts';
import { openSqlStore } from '../../lib/clickhouse/sql-store.ts';
import { loadOrCreateSigner, verifierKeyOf } from '../../lib/tlog/keys.ts';
import { parseVerifierKey } from '../../lib/tlog/note.ts';
import { verifyCommand } from '../../bin/commands/verify.ts';
import { row } from '../../lib/audit/testdata/synthetic-log.ts';
import { classifyPayload } from '../../lib/audit/classify-payload.ts';
import { compileRules } from '../../lib/audit/classify.ts';
import { defaultAuditRules } from '../../lib/audit/rules.ts';
import { logRecordCount } from '../../core/model.ts';
import { encodeLogsProto } from '../../core/otlp/index.ts';
import { Payload } from '../../core/payload.ts';
import { makeBatch } from './workload.ts';
import { startService } from '../../test/service.ts';
import { freePort, Trailhouse } from '../../test/process.ts';
import { threadCpu, threadDelta } from './proc.ts';
import { startNodeFlags } from './start-flags.ts';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';

const argOf = (name: string, d: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const N = argOf('--rows', 200_000);
const RUNS = argOf('--runs', 5);
const IN_PROCESS = process.argv.includes('--in-process');
const WORKLOAD = process.argv.includes('--workload');
/** verify's --hash-locally: the body columns read and hashed in verify, not by the store. */
const HASH_LOCALLY = process.argv.includes('--hash-locally');

/** The next `n` audit rows of the bench's mesh traffic (classified a workload batch at a time, as needed). */
const meshRules = compileRules(defaultAuditRules());
let meshRows: AuditRow[] = [];
let meshSeed = 0;
function workloadRows(n: number): AuditRow[] {
  while (meshRows.length < n) {
    const logs = makeBatch(16_384, meshSeed).logs;
    const p = Payload.ofBytes('logs', [encodeLogsProto(logs)], logRecordCount(logs));
    p.dedupToken = `verify-bench-${meshSeed++}`;
    meshRows = meshRows.concat(classifyPayload(p, meshRules));
  }
  return meshRows.splice(0, n);
}

/** Synthetic rows `from` … `from + n - 1` (lib/audit/testdata/synthetic-log.ts). */
function syntheticRows(from: number, n: number): AuditRow[] {
  return Array.from({ length: n }, (_, k) => {
    const r = row(ORIGIN, from + k);
    return { event: { ...r, time: r.timeNs, category: r.category as AuditRow['event']['category'], outcome: r.outcome as AuditRow['event']['outcome'] }, service: r.service, fallbackTime: 0n };
  });
}
/** --cpu-prof DIR: V8 CPU profiles of each verify process (its threads). */
const CPU_PROF = process.argv.includes('--cpu-prof') ? process.argv[process.argv.indexOf('--cpu-prof') + 1] : undefined;
const FRESH = !IN_PROCESS && !process.argv.includes('--in-bench');
const BATCH = 10_000;
const ORIGIN = 'bench.example/verify';

const config = (dir: string, query: number | string) => `
receivers:
  otlp:
    protocols: {http: {endpoint: "127.0.0.1:0"}}
processors:
  audit: {path: ${dir}}
exporters:
  clickhouse: {path: ${dir}, query_endpoint: "127.0.0.1:${query}", sending_queue: {enabled: false}}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [audit], exporters: [clickhouse]}
`;
const dir = mkdtempSync(join(tmpdir(), 'th-bench-verify-'));
const running = await startService(config(dir, 0));
let served = true;
let child: Trailhouse | undefined;
try {
  const handle = openSqlStore({ endpoint: null, path: dir, username: 'default', password: '' });
  const signer = loadOrCreateSigner(join(dir, 'bench-keys', 'k.key'), ORIGIN);
  const witness = join(dir, 'bench-witness.jsonl');
  const log = new AuditLog({
    store: handle.store,
    database: 'otel',
    table: 'audit_events',
    origin: ORIGIN,
    sequenceBase: ORIGIN,
    signer,
    verifiers: [parseVerifierKey(verifierKeyOf(signer))],
    witnesses: [new FileWitness(witness)],
    checkpointMs: 0,
    logger: silentLogger,
  });
  await log.start();
  const t0 = Date.now();
  for (let a = 0; a < N; a += BATCH) {
    const n = Math.min(BATCH, N - a);
    await log.append(WORKLOAD ? workloadRows(n) : syntheticRows(a, n), `bench-${a}`);
  }
  await log.close();
  console.log(`${N} rows written through the log in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  let queryUrl = running.queryUrl;
  if (!IN_PROCESS) {
    // The store handed over to a pipeline of its own, as `npm start` serves it.
    await handle.release();
    await running.stop();
    served = false;
    const port = await freePort();
    child = await Trailhouse.start(dir, 'pipeline', config(dir, port));
    queryUrl = `http://127.0.0.1:${port}`;
  }
  const cpuOf = (pid: number) => {
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, in clock ticks of 1/100 s
  };

  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) };
  const args = ['--endpoint', queryUrl, '--origin', ORIGIN, '--checkpoints', witness, '--pubkey', verifierKeyOf(signer), '--json', ...(HASH_LOCALLY ? ['--hash-locally'] : [])];
  const rates: number[] = [];
  for (let run = 0; FRESH && run < RUNS; run++) {
    const p0 = cpuOf(child!.proc.pid!);
    const ct0 = threadCpu(child!.proc.pid!);
    const prof = CPU_PROF ? ['--cpu-prof', '--cpu-prof-dir', CPU_PROF] : [];
    const once = spawnSync(process.execPath, [...startNodeFlags(), ...prof, fileURLToPath(new URL('./verify-once.mjs', import.meta.url)), ...args], { encoding: 'utf8' });
    const pipelineCpu = cpuOf(child!.proc.pid!) - p0;
    const r = JSON.parse(once.stdout.trim().split('\n').at(-1) ?? '{}') as { code: number; s: number; cpu: number; threads: Record<string, number>; summary?: { rowsValid: number }; err: string };
    if (r.code !== 0 || r.summary?.rowsValid !== N) throw new Error(`did not verify: exit ${r.code}, ${JSON.stringify(r.summary)} ${r.err} ${once.stderr.slice(0, 500)}`);
    rates.push(N / r.s);
    console.log(`  verify threads ${JSON.stringify(r.threads)}; pipeline threads ${JSON.stringify(threadDelta(ct0, threadCpu(child!.proc.pid!)))}`);
    console.log(`verify in a process of its own through the query interface of a running pipeline: ${Math.round(N / r.s).toLocaleString('en')} rows/s (verify ${r.cpu.toFixed(2)} CPU-s + pipeline ${pipelineCpu.toFixed(2)} CPU-s, in ${r.s.toFixed(2)} s)`);
  }
  for (let run = 0; !FRESH && run < RUNS; run++) {
    out.length = 0;
    const c0 = process.cpuUsage();
    const p0 = child ? cpuOf(child.proc.pid!) : 0;
    const t0 = threadCpu(process.pid);
    const ct0 = child ? threadCpu(child.proc.pid!) : undefined;
    const w0 = process.hrtime.bigint();
    const code = await verifyCommand(args, io);
    const s = Number(process.hrtime.bigint() - w0) / 1e9;
    const c = process.cpuUsage(c0);
    const pipelineCpu = child ? cpuOf(child.proc.pid!) - p0 : 0;
    // Per thread; the hashing worker has ended by now: its CPU is the process's less the live threads'.
    const th = threadDelta(t0, threadCpu(process.pid));
    const live = Object.values(th).reduce((a, b) => a + b, 0);
    console.log(`  verify threads ${JSON.stringify({ ...th, ended: +((c.user + c.system) / 1e6 - live).toFixed(2) })}${ct0 ? `; pipeline threads ${JSON.stringify(threadDelta(ct0, threadCpu(child!.proc.pid!)))}` : ''}`);
    if (code === 2) throw new Error(`verify failed: ${err.join('')}`);
    const summary = (JSON.parse(out.join('')) as { summary: { rowsValid: number } }).summary;
    if (code !== 0 || summary.rowsValid !== N) throw new Error(`did not verify: exit ${code}, ${JSON.stringify(summary)}`);
    rates.push(N / s);
    const where = child ? `verify ${((c.user + c.system) / 1e6).toFixed(2)} CPU-s + pipeline ${pipelineCpu.toFixed(2)} CPU-s` : `${((c.user + c.system) / 1e6).toFixed(2)} CPU-s, the embedded engine's included`;
    console.log(`verify through the query interface${child ? ' of a running pipeline' : ' (in process)'}: ${Math.round(N / s).toLocaleString('en')} rows/s (${where}, in ${s.toFixed(2)} s)`);
  }
  rates.sort((a, b) => a - b);
  console.log(`median of ${RUNS}: ${Math.round(rates[rates.length >> 1]!).toLocaleString('en')} rows/s`);
  if (IN_PROCESS) await handle.release();
} finally {
  await child?.stop();
  if (served) await running.stop();
  rmSync(dir, { recursive: true, force: true });
}
