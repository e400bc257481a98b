/**
 * What the signed Merkle log costs per audit row, in process: the audit
 * processor on the bench workload (scripts/bench/workload.ts: 1 request in
 * 50 an RBAC denial, 1 in 6 on /admin) writing to the embedded engine, with
 * `integrity` on and off, in interleaved rounds. CPU from process.cpuUsage
 * (every thread: the engine's inserts and the leaves table's materialized
 * view included); the figure is (CPU on − CPU off) / audit rows, the median
 * over the rounds. Merges are stopped during the rounds (they would land in
 * whichever round they happen to run in) and measured after them, each
 * database's tables merged to one part: their difference per row is
 * reported beside the rounds' and added to the total.
 *
 *   node --import tsx scripts/bench/audit-log.ts [--rounds 7] [--batches 8] [--requests 2048] [--off-both]
 *
 * --requests sets the audit batch: 2 log records per request, ~19% of them
 * audit events (2048 → ~765 audit rows per insert; the default pipeline's
 * spool batches of 32 768–65 536 records → ~6 000–12 000). --off-both runs
 * both sides without the log: the noise floor of the comparison.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { flag, parseArgs } from '../../bin/commands/args.ts';
import { logRecordCount } from '../../core/model.ts';
import { encodeLogsProto } from '../../core/otlp/index.ts';
import { Payload } from '../../core/payload.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { AuditProcessor } from '../../processors/audit/audit.ts';
import { defaultAuditConfig } from '../../processors/audit/config.ts';
import { defaultIntegrity } from '../../processors/audit/integrity.ts';
import { openSqlStore } from '../../lib/clickhouse/sql-store.ts';
import { makeBatch } from './workload.ts';
import { threadCpu, threadDelta } from './proc.ts';

const args = parseArgs(process.argv.slice(2));
const ROUNDS = Number(flag(args, 'rounds') ?? 7);
const BATCHES = Number(flag(args, 'batches') ?? 8);
const REQUESTS = Number(flag(args, 'requests') ?? 2048);

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-bench-auditlog-'));
const where = { endpoint: null, path: dir, username: '', password: '' };
const sink = { logs: { consumeLogs: async () => {} } };
const processor = (database: string, on: boolean) =>
  new AuditProcessor({ id: `audit/${database}`, config: { ...defaultAuditConfig(), ...where, database, integrity: { ...defaultIntegrity(), enabled: on, checkpoint_interval: 30_000 } }, logger: silentLogger, metrics: new MetricsRegistry() }, sink);

const on = processor('with_log', !args.flags.has('off-both'));
const off = processor('without_log', false);
await on.start({} as never);
await off.start({} as never);
const reader = openSqlStore(where);
const count = async (db: string) => Number((await reader.store.query<{ n: string }>(`SELECT toString(count()) AS n FROM ${db}.audit_events`))[0]!.n);
const tablesOf = async (db: string) => (await reader.store.query<{ name: string }>(`SELECT name FROM system.tables WHERE database = '${db}' AND engine = 'MergeTree' ORDER BY name`)).map((t) => `${db}.${t.name}`);
for (const db of ['with_log', 'without_log']) for (const t of await tablesOf(db)) await reader.store.exec(`SYSTEM STOP MERGES ${t}`);

// Request bytes, as the spool hands them on (the bytes path the default pipeline takes).
const batches = Array.from({ length: ROUNDS * BATCHES + 2 }, (_, i) => {
  const logs = makeBatch(REQUESTS, i).logs;
  return { bytes: Buffer.from(encodeLogsProto(logs)), count: logRecordCount(logs) };
});
let next = 0;
const threads: Record<string, Record<string, number>> = { with_log: {}, without_log: {} };
async function round(p: AuditProcessor, db: string): Promise<{ cpu: number; rows: number }> {
  const before = await count(db);
  const th0 = threadCpu(process.pid);
  const t0 = process.cpuUsage();
  for (let b = 0; b < BATCHES; b++) {
    const { bytes, count: n } = batches[next++ % batches.length]!;
    const payload = Payload.ofBytes('logs', [bytes], n);
    payload.dedupToken = `bench-${db}-${next}`;
    await p.consumeLogs(payload);
  }
  const u = process.cpuUsage(t0);
  for (const [k, v] of Object.entries(threadDelta(th0, threadCpu(process.pid)))) threads[db]![k] = (threads[db]![k] ?? 0) + v;
  return { cpu: (u.user + u.system) / 1e6, rows: (await count(db)) - before };
}

await round(on, 'with_log'); // warm-up: JIT and the tables' first parts
await round(off, 'without_log');
const perRow: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const a = await round(on, 'with_log');
  const b = await round(off, 'without_log');
  perRow.push(((a.cpu - b.cpu) / a.rows) * 1e6);
  console.log(`round ${r + 1}: with the log ${a.cpu.toFixed(3)} CPU-s, without ${b.cpu.toFixed(3)} CPU-s, ${a.rows} audit rows: ${(((a.cpu - b.cpu) / a.rows) * 1e6).toFixed(2)} µs per row`);
}
perRow.sort((x, y) => x - y);
// Merges, now: each database's tables to one part (what background merges would do, at once).
async function mergeCpu(db: string): Promise<number> {
  const t0 = process.cpuUsage();
  for (const t of await tablesOf(db)) {
    await reader.store.exec(`SYSTEM START MERGES ${t}`);
    await reader.store.exec(`OPTIMIZE TABLE ${t} FINAL`);
  }
  const u = process.cpuUsage(t0);
  return (u.user + u.system) / 1e6;
}
const rowsWith = await count('with_log');
const mergeUs = ((await mergeCpu('with_log')) - (await mergeCpu('without_log'))) / rowsWith * 1e6;
const median = perRow[Math.floor(perRow.length / 2)]!;
console.log(JSON.stringify({ audit_rows_per_round: rowsWith / (ROUNDS + 1), log_cpu_us_per_audit_row_median: +(median + mergeUs).toFixed(2), inserts_us_median: +median.toFixed(2), inserts_range: [+perRow[0]!.toFixed(2), +perRow.at(-1)!.toFixed(2)], merges_us: +mergeUs.toFixed(2) }));
console.log('thread CPU-s over all rounds (warm-up included):', JSON.stringify(threads));
await on.shutdown();
await off.shutdown();
await reader.release();
fs.rmSync(dir, { recursive: true, force: true });
