/**
 * What the embedded engine (chDB) spends per otel_logs row by input format,
 * merges stopped: the same 12 batches of 8 192 access-log rows inserted as
 * JSONCompactEachRow through chDB's raw insert (what the exporter used to do),
 * and from files through `INSERT … SELECT * FROM file(…)` as
 * JSONCompactEachRow, TSV, RowBinary and Native (plain column types, as
 * lib/clickhouse/native.ts writes them). The files are written by the
 * engine itself from a staging table, so every format carries the same rows.
 * CPU from process.cpuUsage (the engine's threads included), µs per row,
 * median of the rounds.
 *
 *   node --import tsx scripts/bench/engine-formats.ts [rounds=3]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openStore } from '../../lib/clickhouse/index.ts';
import { LOG_COLUMNS, encodeLogs } from '../../lib/clickhouse/rows.ts';
import { schemaStatements } from '../../lib/clickhouse/schema.ts';
import { batch } from './clickhouse.ts';

const rounds = Number(process.argv[2] ?? 3);
const N = 12;
const ROWS = 8192;
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-engine-formats-'));
const scratch = fs.mkdtempSync(path.join(fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), 'th-engine-formats-'));
const lease = openStore({ endpoint: null, path: dir, username: '', password: '' });
const store = lease.store;
await store.ready();
const schema = { database: 'otel', logsTable: 'otel_logs', tracesTable: 'otel_traces', ttlMs: 0, clusterName: null, engine: { name: 'MergeTree', params: '' }, extraSettings: { merge_selector_base: 20, non_replicated_deduplication_window: 1000 } };
for (const sql of schemaStatements(schema, { logs: true, traces: false })) await store.command(sql);
const types = await store.queryRows<{ name: string; type: string }>("SELECT name, type FROM system.columns WHERE database = 'otel' AND table = 'otel_logs'");
const plain = LOG_COLUMNS.map((c) => `\`${c}\` ${types.find((t) => t.name === c)!.type.replace(/LowCardinality\((\w+)\)/g, '$1')}`).join(', ');
await store.command(`CREATE TABLE otel.stage (${plain}) ENGINE = Memory`);
const cols = LOG_COLUMNS.map((c) => `\`${c}\``).join(', ');
const FORMATS = ['JSONCompactEachRow', 'TSV', 'RowBinary', 'Native'] as const;
const bodies: Buffer[] = [];
for (let i = 0; i < N; i++) {
  const body = encodeLogs(batch(i * ROWS, ROWS)).body;
  bodies.push(body);
  await store.command('TRUNCATE TABLE otel.stage');
  await store.insert({ table: 'otel.stage', columns: LOG_COLUMNS, format: 'JSONCompactEachRow', body, settings: {} });
  for (const f of FORMATS) await store.command(`INSERT INTO FUNCTION file('${scratch}/${i}.${f}', '${f}', '${plain}') SELECT ${cols} FROM otel.stage`);
}

type Kind = 'raw JSONCompactEachRow' | 'Native, structure from the file' | (typeof FORMATS)[number];

async function perRow(kind: Kind): Promise<number> {
  await store.command('TRUNCATE TABLE otel.otel_logs');
  await store.command('SYSTEM STOP MERGES otel.otel_logs');
  const c0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    if (kind === 'raw JSONCompactEachRow') await store.insert({ table: 'otel.otel_logs', columns: LOG_COLUMNS, format: 'JSONCompactEachRow', body: bodies[i]!, settings: {} });
    else if (kind === 'Native, structure from the file') await store.command(`INSERT INTO otel.otel_logs (${cols}) SELECT * FROM file('${scratch}/${i}.Native', 'Native')`);
    else await store.command(`INSERT INTO otel.otel_logs (${cols}) SELECT * FROM file('${scratch}/${i}.${kind}', '${kind}', '${plain}')`);
  }
  const c = process.cpuUsage(c0);
  const [{ n }] = (await store.queryRows<{ n: string }>('SELECT count() AS n FROM otel.otel_logs')) as [{ n: string }];
  if (Number(n) !== N * ROWS) throw new Error(`${kind}: ${n} rows stored, expected ${N * ROWS}`);
  await store.command('SYSTEM START MERGES otel.otel_logs');
  return (c.user + c.system) / (N * ROWS);
}

const results = new Map<string, number[]>();
for (let r = 0; r < rounds; r++) {
  for (const k of ['raw JSONCompactEachRow', ...FORMATS, 'Native, structure from the file'] as const) {
    const v = await perRow(k);
    results.set(k, [...(results.get(k) ?? []), v]);
  }
}
const median = (a: number[]) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
console.log(`| input (otel_logs, ${N} × ${ROWS} rows, merges stopped) | bytes/row | engine µs CPU/row (median) | range |`);
console.log('|---|---:|---:|---:|');
for (const [k, v] of results) {
  const f = k === 'raw JSONCompactEachRow' ? null : k.startsWith('Native') ? 'Native' : k;
  const size = f ? fs.statSync(`${scratch}/0.${f}`).size : bodies[0]!.length;
  const label = !f ? 'chDB raw insert, JSONCompactEachRow' : k === f ? `file(…, ${f}, structure)` : `file(…, ${f}) (${k.slice(8)})`;
  console.log(`| ${label} | ${Math.round(size / ROWS)} | ${median(v).toFixed(1)} | ${Math.min(...v).toFixed(1)}–${Math.max(...v).toFixed(1)} |`);
}
await lease.release();
fs.rmSync(dir, { recursive: true, force: true });
fs.rmSync(scratch, { recursive: true, force: true });
