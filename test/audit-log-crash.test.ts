/**
 * The audit log across `kill -9` of ./pipeline.yaml (temp dir, free ports)
 * while it checkpoints every 100 ms under load: after a restart the log
 * continues — every origin's indexes run from 0 without a gap or a repeat,
 * no audit event is stored twice although the spool replays — and every
 * checkpoint in the witness file verifies with the key's verifier and has
 * the root of the stored rows at its size (the newest one covers them all).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeLogsProto } from '../core/otlp/index.ts';
import { makeBatch } from '../scripts/bench/workload.ts';
import { auditLeafLatin1 } from '../lib/audit/leaf.ts';
import { readWitnessFile } from '../lib/audit/witness.ts';
import { parseCheckpoint } from '../lib/tlog/checkpoint.ts';
import { openNote, parseVerifierKey } from '../lib/tlog/note.ts';
import { CompactTree } from '../lib/tlog/tree.ts';
import { Trailhouse } from './process.ts';
import { count, defaultPipelineOnFreePorts } from './default-pipeline.ts';
import { waitFor } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-auditlog-crash-'));
let running: Trailhouse | undefined;
afterAll(async () => {
  await running?.kill9();
  rmSync(dir, { recursive: true, force: true });
});

interface Row {
  o: string;
  i: string;
  ns: string;
  Category: string;
  Outcome: string;
  ServiceName: string;
  LogBodyHash: string;
}

async function rows(query: number): Promise<Row[]> {
  const sql = `SELECT LogOrigin AS o, toString(LogIndex) AS i, toString(toUnixTimestamp64Nano(Timestamp)) AS ns, Category, Outcome, ServiceName, LogBodyHash
    FROM otel.audit_events ORDER BY LogOrigin, LogIndex FORMAT JSONEachRow`;
  const r = await fetch(`http://127.0.0.1:${query}/?query=${encodeURIComponent(sql)}`);
  if (!r.ok) throw new Error(await r.text());
  return (await r.text()).split('\n').filter(Boolean).map((l) => JSON.parse(l) as Row);
}

describe('audit log: kill -9 while checkpointing', () => {
  it('continues without forks, gaps or repeats, and every witnessed checkpoint matches the stored rows', async () => {
    const p = await defaultPipelineOnFreePorts();
    p.cfg.processors.correlate.wait = '1s';
    p.cfg.processors.audit.integrity = { checkpoint_interval: '100ms' };
    const yaml = p.yaml();
    running = await Trailhouse.start(dir, 'pipeline', yaml);

    let acked = 0;
    let stop = false;
    const send = async (i: number) => {
      const body = Buffer.from(encodeLogsProto(makeBatch(100, i).logs));
      try {
        const r = await fetch(`http://127.0.0.1:${p.http}/v1/logs`, { method: 'POST', body, headers: { 'content-type': 'application/x-protobuf' } });
        if (r.status === 200) acked += 200;
      } catch {
        // reset by the kill: not acknowledged
      }
    };
    // Paced, so the spool hands on several batches (and the log checkpoints between them).
    const sender = (async () => {
      for (let i = 0; !stop && i < 400; i++) {
        await send(i);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    // Kill once audit rows have been checkpointed at least twice.
    const witness = join(dir, 'data', 'witness', 'audit-checkpoints.jsonl');
    await waitFor(() => readWitnessFile(witness).records.length >= 2, 120_000, 'two checkpoints in the witness file');
    await running.kill9();
    stop = true;
    await sender;

    running = await Trailhouse.start(dir, 'pipeline', yaml);
    for (let i = 1000; i < 1010; i++) await send(i);
    await waitFor(async () => (await count(p.query, 'SELECT count() FROM otel.otel_logs')) >= acked, 60_000, 'every acknowledged record stored');
    expect(await running.stop()).toBe(0); // the final checkpoint
    // What the witness holds at the stop: the restart below adds rows (the store's own access events of this test's queries).
    const read = readWitnessFile(witness);
    running = await Trailhouse.start(dir, 'pipeline', yaml);

    const stored = await rows(p.query);
    expect(stored.length).toBeGreaterThan(50);
    expect(stored.every((r) => r.o !== '')).toBe(true);
    // The spool replayed batches the log already held: each event once.
    // (Classified events: the store's own access events, data_access, have no trace.)
    expect(await count(p.query, "SELECT count() FROM otel.audit_events WHERE TraceId != ''")).toBeGreaterThan(50);
    expect(await count(p.query, "SELECT count() - uniqExact(TraceId, SpanId, Category, Action) FROM otel.audit_events WHERE TraceId != ''")).toBe(0);

    const verifiers = readFileSync(join(dir, 'data', 'keys', 'verifiers'), 'utf8').split('\n').filter(Boolean).map(parseVerifierKey);
    // A line torn by the kill is reported, never taken.
    for (const b of read.bad) expect(b.reason).toMatch(/torn last line/);
    const byOrigin = new Map<string, Row[]>();
    for (const r of stored) byOrigin.set(r.o, [...(byOrigin.get(r.o) ?? []), r]);
    for (const [origin, list] of byOrigin) {
      list.forEach((r, k) => expect(r.i).toBe(String(k)));
      const roots = new Map<number, string>();
      const tree = new CompactTree();
      for (const r of list) {
        tree.appendLatin1(auditLeafLatin1({ origin, index: tree.size, timeNs: BigInt(r.ns), category: r.Category, outcome: r.Outcome, service: r.ServiceName, bodyHashHex: r.LogBodyHash }));
        roots.set(tree.size, tree.root().toString('base64'));
      }
      const cps = read.records.filter((c) => c.origin === origin);
      expect(cps.length).toBeGreaterThan(2);
      let previous = 0;
      for (const c of cps) {
        const cp = parseCheckpoint(openNote(c.note, verifiers).text);
        expect(cp.size).toBeGreaterThanOrEqual(previous); // no checkpoint of a smaller tree after a larger one
        previous = cp.size;
        expect(cp.size).toBeGreaterThan(0); // an empty log is not checkpointed
        expect(cp.root.toString('base64')).toBe(roots.get(cp.size));
      }
      // The checkpoint at the stop covers every classified event; only the store's own access events
      // (raised while it stopped, or by this test's queries since) may follow it.
      expect(cps.at(-1)!.size).toBeGreaterThan(50);
      for (const r of list.slice(cps.at(-1)!.size)) expect(['data_access', 'authentication']).toContain(r.Category);
    }
  }, 240_000);
});
