/**
 * What the clickhouse exporter's Merkle log over otel_logs (`integrity`)
 * costs per covered log row, in process: two exporters on the embedded
 * engine, one with the log covering `--services`, one without, pushed the
 * same bench workload (scripts/bench/workload.ts access logs, ~12
 * attributes each) as request bytes — the path the default pipeline takes
 * behind the spool — in interleaved rounds. CPU from process.cpuUsage
 * (every thread: the Native encoding, the hashing, the engine's inserts,
 * the leaves table's materialized view and merges); the figure is
 * (CPU with − CPU without) / covered rows, the median over the rounds.
 *
 *   npm run bench:logs-integrity -- [--rounds 7] [--batches 8] [--requests 4096] [--services frontend,checkout,…] [--off-both] [--verify]
 *
 * --verify then runs `trailhouse verify --table otel_logs` over what the
 * rounds wrote, through the embedded store's query interface, twice with the
 * store hashing the bodies and twice with --hash-locally, interleaved, and
 * prints its rows per second (wall clock).
 *
 * Default: every service of the workload covered (6), so every row is a
 * leaf; `--services checkout` covers one in six. --off-both runs both sides
 * without the log: the noise floor of the comparison.
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
import { defaultClickHouseConfig } from '../../exporters/clickhouse/config.ts';
import { ClickHouseExporter } from '../../exporters/clickhouse/exporter.ts';
import { defaultLogsIntegrity } from '../../exporters/clickhouse/integrity.ts';
import { openSqlStore } from '../../lib/clickhouse/sql-store.ts';
import { makeBatch } from './workload.ts';

const args = parseArgs(process.argv.slice(2));
const ROUNDS = Number(flag(args, 'rounds') ?? 7);
const BATCHES = Number(flag(args, 'batches') ?? 8);
const REQUESTS = Number(flag(args, 'requests') ?? 4096);
const SERVICES = (flag(args, 'services') ?? 'frontend,checkout,payments,inventory,auth,search').split(',');

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-bench-logsintegrity-'));
const VERIFY = args.flags.has('verify');
const exporter = (database: string, on: boolean) => {
  const c = defaultClickHouseConfig();
  const cfg = { ...c, path: dir, database, query_endpoint: VERIFY && on ? '127.0.0.1:0' : null, integrity: { ...defaultLogsIntegrity(), enabled: on, services: SERVICES, checkpoint_interval: 30_000 } };
  return new ClickHouseExporter(cfg, silentLogger, new MetricsRegistry());
};

const OFF_BOTH = args.flags.has('off-both');
const on = exporter('with_log', !OFF_BOTH);
const off = exporter('without_log', false);
await on.start({} as never);
await off.start({} as never);
const reader = openSqlStore({ endpoint: null, path: dir, username: '', password: '' });
const count = async (db: string, where = '1') => Number((await reader.store.query<{ n: string }>(`SELECT toString(count()) AS n FROM ${db}.otel_logs WHERE ${where}`))[0]!.n);

const batches = Array.from({ length: ROUNDS * BATCHES + 2 }, (_, i) => {
  const logs = makeBatch(REQUESTS, i).logs;
  return { bytes: Buffer.from(encodeLogsProto(logs)), count: logRecordCount(logs) };
});
let next = 0;
const signal = new AbortController().signal;
async function round(e: ClickHouseExporter, db: string): Promise<{ cpu: number; rows: number; covered: number }> {
  const before = await count(db);
  // Without the log (--off-both) every row counts as covered: the noise floor per row.
  const covering = db === 'with_log' && !OFF_BOTH;
  const coveredBefore = covering ? await count(db, "LogOrigin != ''") : 0;
  const t0 = process.cpuUsage();
  for (let b = 0; b < BATCHES; b++) {
    const { bytes, count: n } = batches[next++ % batches.length]!;
    await e.pushLogs(Payload.ofBytes('logs', [bytes], n), { dedupToken: `bench-${db}-${next}`, attempt: 1, signal });
  }
  const u = process.cpuUsage(t0);
  const rows = (await count(db)) - before;
  const covered = covering ? (await count(db, "LogOrigin != ''")) - coveredBefore : rows;
  return { cpu: (u.user + u.system) / 1e6, rows, covered };
}

await round(on, 'with_log'); // warm-up: JIT and the tables' first parts
await round(off, 'without_log');
const perRow: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const a = await round(on, 'with_log');
  const b = await round(off, 'without_log');
  const us = ((a.cpu - b.cpu) / Math.max(1, a.covered)) * 1e6;
  perRow.push(us);
  console.log(`round ${r + 1}: with the log ${a.cpu.toFixed(3)} CPU-s, without ${b.cpu.toFixed(3)} CPU-s, ${a.rows} rows of which ${a.covered} covered: ${us.toFixed(2)} µs per covered row`);
}
perRow.sort((x, y) => x - y);
console.log(JSON.stringify({ services: SERVICES, rows_per_round: BATCHES * batches[0]!.count, log_cpu_us_per_covered_row_median: +perRow[Math.floor(perRow.length / 2)]!.toFixed(2), range: [+perRow[0]!.toFixed(2), +perRow.at(-1)!.toFixed(2)] }));
if (VERIFY && !OFF_BOTH) {
  await (on as unknown as { logsLog?: { log: { checkpointAll(): Promise<void> } } }).logsLog?.log.checkpointAll();
  const { verifyCommand } = await import('../../bin/commands/verify.ts');
  // Twice each way, interleaved: the store hashing the bodies (the default), and verify --hash-locally.
  for (const mode of ['store', 'local', 'store', 'local']) {
    const out: string[] = [];
    const t0 = performance.now();
    const code = await verifyCommand(
      ['--endpoint', on.queryUrl!, '--database', 'with_log', '--table', 'otel_logs', '--checkpoints', path.join(dir, 'witness', 'audit-checkpoints.jsonl'), '--pubkey', path.join(dir, 'keys', 'verifiers'), '--json', ...(mode === 'local' ? ['--hash-locally'] : [])],
      { out: (x) => void out.push(x), err: (x) => void process.stderr.write(x) },
    );
    const s = (performance.now() - t0) / 1000;
    const summary = (JSON.parse(out.join('')) as { summary: { rows: number; rowsValid: number } }).summary;
    console.log(JSON.stringify({ verify: mode, verify_exit: code, rows: summary.rows, rows_valid: summary.rowsValid, seconds: +s.toFixed(2), rows_per_second: Math.round(summary.rows / s) }));
  }
}
await on.shutdown();
await off.shutdown();
await reader.release();
fs.rmSync(dir, { recursive: true, force: true });
