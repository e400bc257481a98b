/**
 * `trailhouse verify` end to end on the embedded engine: a pipeline's store
 * and query interface in a temporary directory, N synthetic audit rows
 * appended through the signed log (lib/audit/log.ts, its own origin and
 * witness), one checkpoint, then `trailhouse verify` timed through the
 * query interface — HTTP, the store reading the pages, building and
 * hashing the body encodings, tree.
 *
 *   node --import tsx scripts/bench/verify-store.ts [--rows 200000]
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
import { startInTempDir } from '../../test/service.ts';

const i = process.argv.indexOf('--rows');
const N = i > 0 ? Number(process.argv[i + 1]) : 200_000;
const BATCH = 10_000;
const ORIGIN = 'bench.example/verify';

const running = await startInTempDir(
  'th-bench-verify-',
  (dir) => `
receivers:
  otlp:
    protocols: {http: {endpoint: "127.0.0.1:0"}}
processors:
  audit: {path: ${dir}}
exporters:
  clickhouse: {path: ${dir}, query_endpoint: "127.0.0.1:0", sending_queue: {enabled: false}}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [audit], exporters: [clickhouse]}
`,
);
try {
  const handle = openSqlStore({ endpoint: null, path: running.dir, username: 'default', password: '' });
  const signer = loadOrCreateSigner(join(running.dir, 'bench-keys', 'k.key'), ORIGIN);
  const witness = join(running.dir, 'bench-witness.jsonl');
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
    const rows: AuditRow[] = [];
    for (let k = a; k < Math.min(N, a + BATCH); k++) {
      const r = row(ORIGIN, k);
      rows.push({ event: { ...r, time: r.timeNs, category: r.category as AuditRow['event']['category'], outcome: r.outcome as AuditRow['event']['outcome'] }, service: r.service, fallbackTime: 0n });
    }
    await log.append(rows, `bench-${a}`);
  }
  await log.close();
  console.log(`${N} rows written through the log in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) };
  const args = ['--endpoint', running.queryUrl, '--origin', ORIGIN, '--checkpoints', witness, '--pubkey', verifierKeyOf(signer), '--json'];
  for (let run = 0; run < 3; run++) {
    out.length = 0;
    const c0 = process.cpuUsage();
    const w0 = process.hrtime.bigint();
    const code = await verifyCommand(args, io);
    const s = Number(process.hrtime.bigint() - w0) / 1e9;
    const c = process.cpuUsage(c0);
    if (code === 2) throw new Error(`verify failed: ${err.join('')}`);
    const summary = (JSON.parse(out.join('')) as { summary: { rowsValid: number } }).summary;
    if (code !== 0 || summary.rowsValid !== N) throw new Error(`did not verify: exit ${code}, ${JSON.stringify(summary)}`);
    console.log(`verify through the query interface: ${Math.round(N / s).toLocaleString('en')} rows/s (${((c.user + c.system) / 1e6).toFixed(2)} CPU-s in ${s.toFixed(2)} s, the embedded engine's included)`);
  }
  await handle.release();
} finally {
  await running.stop();
}
