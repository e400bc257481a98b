/**
 * The signed log's JavaScript per row, warm and in process, CPU time (no
 * engine): the audit source's `place` (body encoding and hash, leaf entry
 * and hash, log columns) plus the tree, on batches like the default
 * pipeline's; and verify's hashing worker on one 100 000-row page, body
 * hashes alone and with the leaves.
 *
 *   node --import tsx scripts/bench/audit-log-js.ts [--rows 6100] [--rounds 12]
 */
import { flag, parseArgs } from '../../bin/commands/args.ts';
import { BodyHasher } from '../../lib/audit/body-hasher.ts';
import { auditLeafSource } from '../../lib/audit/log.ts';
import type { AuditRow } from '../../lib/audit/schema.ts';
import { leafPrefix } from '../../lib/audit/verify-rowbinary.ts';
import { row, rowsPage, syntheticLog } from '../../lib/audit/testdata/synthetic-log.ts';
import { CompactTree } from '../../lib/tlog/tree.ts';

const args = parseArgs(process.argv.slice(2));
const N = Number(flag(args, 'rows') ?? 6100);
const ROUNDS = Number(flag(args, 'rounds') ?? 12);
const ORIGIN = 'bench.example/trailhouse/otel.audit_events';
// Flat strings, as the audit processor's decoder makes them (not the template literals' cons strings).
const flat = (s: string) => Buffer.from(s).toString();
const rows: AuditRow[] = [];
for (let k = 0; k < N; k++) {
  const r = row(ORIGIN, k);
  const details = Object.fromEntries(Object.entries(r.details).map(([a, b]) => [flat(a), flat(b)]));
  const event = { action: flat(r.action), principal: flat(r.principal), source: flat(r.source), destination: flat(r.destination), resource: flat(r.resource), policy: flat(r.policy), traceId: flat(r.traceId), spanId: flat(r.spanId), details, time: r.timeNs, category: r.category, outcome: r.outcome };
  rows.push({ event: event as unknown as AuditRow['event'], service: r.service, fallbackTime: 0n });
}
const source = auditLeafSource({ store: {} as never, database: 'otel', table: 'audit_events' } as never);
const cpuMs = async (f: () => Promise<unknown>) => {
  const c0 = process.cpuUsage();
  await f();
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / 1000;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;

const logNs: number[] = [];
for (let r = 0; r < ROUNDS + 2; r++) {
  const tree = new CompactTree();
  // Ten batches per round: process.cpuUsage's resolution is coarse for one.
  const ms = await cpuMs(async () => {
    for (let b = 0; b < 10; b++) for (const leaf of await source.place(rows, ORIGIN, b * N, `bench-${b}`)) tree.appendLatin1(leaf);
  });
  if (r >= 2) logNs.push((ms * 1e6) / (10 * N));
}
console.log(`the log's JavaScript (place + tree), ${N} rows per batch: median ${median(logNs).toFixed(0)} ns CPU per row (rounds ${logNs.map(Math.round).join(' ')})`);

const PAGE = 100_000;
const log = syntheticLog(PAGE, [PAGE]);
const page = rowsPage(log.rows);
const prefix = leafPrefix(log.rows[0]!.origin);
const hasher = new BodyHasher();
const bodies: number[] = [];
const withLeaves: number[] = [];
for (let r = 0; r < ROUNDS + 2; r++) {
  const a = await cpuMs(() => hasher.hashPage(page, 0, PAGE));
  const b = await cpuMs(() => hasher.hashPage(page, 0, PAGE, false, prefix));
  if (r < 2) continue;
  bodies.push(a);
  withLeaves.push(b);
}
await hasher.close();
console.log(`verify's worker, a page of ${PAGE} rows (copied to it): body hashes ${median(bodies).toFixed(0)} CPU-ms, with the leaves ${median(withLeaves).toFixed(0)} CPU-ms`);
