/**
 * The engine's share of the signed log, per audit row: the same batches
 * inserted into audit_events with the leaves table filled by its
 * materialized view (as the log does), with the leaf records written by a
 * second INSERT instead (no view), and with no leaves table, in
 * interleaved rounds; CPU of every thread of this process per row (the
 * batches' log columns are set beforehand, so the JavaScript differs only
 * by the second insert's encoding).
 *
 *   node --import tsx scripts/bench/audit-leaves-engine.ts [--rows 6100] [--rounds 6] [--inserts 4]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { flag, parseArgs } from '../../bin/commands/args.ts';
import { auditLeafSource } from '../../lib/audit/log.ts';
import { leavesTable, LOG_INSERT_SETTINGS, logTablesSql } from '../../lib/audit/log-schema.ts';
import { AUDIT_COLUMNS, auditNative, auditRowTime, auditTableSql, databaseSql, type AuditRow } from '../../lib/audit/schema.ts';
import { row } from '../../lib/audit/testdata/synthetic-log.ts';
import { bytesOf, nativeBlock, Sink } from '../../lib/clickhouse/index.ts';
import { openSqlStore } from '../../lib/clickhouse/sql-store.ts';
import { threadCpu, threadDelta } from './proc.ts';

const args = parseArgs(process.argv.slice(2));
const ROWS = Number(flag(args, 'rows') ?? 6100);
const ROUNDS = Number(flag(args, 'rounds') ?? 6);
const INSERTS = Number(flag(args, 'inserts') ?? 4);
const ORIGIN = 'bench.example/leaves';
const KINDS = { view: 'the leaves view', direct: 'a second INSERT', none: 'no leaves table' } as const;
type Kind = keyof typeof KINDS;

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-bench-leaves-'));
const handle = openSqlStore({ endpoint: null, path: dir, username: '', password: '' });
const store = handle.store;
for (const db of Object.keys(KINDS) as Kind[]) {
  for (const q of databaseSql(db).split(';')) if (q.trim()) await store.exec(q);
  await store.exec(auditTableSql({ database: db, table: 'audit_events', ttlMs: 0 }));
  for (const q of logTablesSql({ database: db, table: 'audit_events' })) {
    if (db === 'view' || (db === 'direct' && !q.includes('MATERIALIZED VIEW'))) await store.exec(q);
  }
}

let next = 0;
const source = auditLeafSource({ store, database: 'unused', table: 'unused' } as never);
async function batch(): Promise<AuditRow[]> {
  const rows: AuditRow[] = [];
  for (let k = 0; k < ROWS; k++) {
    const r = row(ORIGIN, next + k);
    rows.push({ event: { ...r, time: r.timeNs } as unknown as AuditRow['event'], service: r.service, fallbackTime: 0n });
  }
  await source.place(rows, ORIGIN, next, `bench-${next}`);
  next += ROWS;
  return rows;
}

const LEAF_COLUMNS = ['LogOrigin', 'LogIndex', 'Timestamp', 'Category', 'Outcome', 'ServiceName', 'LogBodyHash', 'LogBatch'];
function leavesNative(rows: readonly AuditRow[]) {
  const n = rows.length;
  const text = LEAF_COLUMNS.map(() => new Sink(n * 24));
  const index = new BigUint64Array(n);
  const ts = new BigInt64Array(n);
  rows.forEach((r, i) => {
    index[i] = BigInt(r.log!.index);
    ts[i] = auditRowTime(r);
    for (const [c, v] of [[0, r.log!.origin], [3, r.event.category], [4, r.event.outcome], [5, r.service], [6, r.log!.bodyHash], [7, r.log!.batch]] as const) text[c]!.str(v);
  });
  const column = (name: string, c: number): [string, string, Uint8Array[]] =>
    c === 1 ? [name, 'UInt64', [bytesOf(index)]] : c === 2 ? [name, 'DateTime64(9)', [bytesOf(ts)]] : [name, 'String', [text[c]!.data]];
  return nativeBlock(n, LEAF_COLUMNS.map(column));
}

const perRow: Record<Kind, number[]> = { view: [], direct: [], none: [] };
const threads: Record<Kind, Record<string, number>> = { view: {}, direct: {}, none: {} };
for (let r = 0; r <= ROUNDS; r++) {
  for (const kind of Object.keys(KINDS) as Kind[]) {
    const batches: AuditRow[][] = [];
    for (let k = 0; k < INSERTS; k++) batches.push(await batch());
    const t0 = threadCpu(process.pid);
    const c0 = process.cpuUsage();
    for (const rows of batches) {
      const token = `bench-${rows[0]!.log!.index}`;
      await store.insert(`${kind}.audit_events`, AUDIT_COLUMNS, { json: () => '', native: () => auditNative(rows) }, { dedupToken: token, settings: LOG_INSERT_SETTINGS });
      if (kind === 'direct') await store.insert(leavesTable({ database: kind, table: 'audit_events' }), LEAF_COLUMNS, { json: () => '', native: () => leavesNative(rows) }, { dedupToken: token });
    }
    const c = process.cpuUsage(c0);
    if (r === 0) continue; // warm-up
    perRow[kind].push((c.user + c.system) / (INSERTS * ROWS));
    for (const [t, v] of Object.entries(threadDelta(t0, threadCpu(process.pid)))) threads[kind][t] = +((threads[kind][t] ?? 0) + v).toFixed(2);
  }
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
for (const kind of Object.keys(KINDS) as Kind[]) {
  console.log(`${KINDS[kind]}: median ${median(perRow[kind]).toFixed(1)} µs CPU per row (rounds ${perRow[kind].map((x) => x.toFixed(1)).join(' ')}); threads ${JSON.stringify(threads[kind])}`);
}
await handle.release();
fs.rmSync(dir, { recursive: true, force: true });
