/**
 * What the audit log's process-level tests check from the outside (through
 * the query interface and the witness file), until and besides `trailhouse
 * verify`: per origin, indexes from 0 without a gap or a repeat; each
 * classified event once; every witnessed checkpoint signed by a trusted
 * key, never smaller than the one before, with the root of the stored rows
 * at its size; the newest covering every classified event.
 */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { auditLeafLatin1 } from '../lib/audit/leaf.ts';
import type { WitnessFileRead } from '../lib/audit/witness.ts';
import { parseCheckpoint } from '../lib/tlog/checkpoint.ts';
import { openNote, parseVerifierKey } from '../lib/tlog/note.ts';
import { CompactTree } from '../lib/tlog/tree.ts';
import { count } from './default-pipeline.ts';

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

/** Asserts the log's invariants; returns the number of rows per origin. */
export async function checkAuditLog(query: number, witness: WitnessFileRead, verifiersFile: string): Promise<Map<string, number>> {
  const stored = await rows(query);
  expect(stored.every((r) => r.o !== '')).toBe(true);
  // Classified events (those with a trace; the store's own access events have none) once each.
  expect(await count(query, "SELECT count() FROM otel.audit_events WHERE TraceId != ''")).toBeGreaterThan(20);
  expect(await count(query, "SELECT count() - uniqExact(TraceId, SpanId, Category, Action) FROM otel.audit_events WHERE TraceId != ''")).toBe(0);

  const verifiers = readFileSync(verifiersFile, 'utf8').split('\n').filter(Boolean).map(parseVerifierKey);
  // A line torn by a kill is reported, never taken.
  for (const b of witness.bad) expect(b.reason).toMatch(/torn last line/);
  const byOrigin = new Map<string, Row[]>();
  for (const r of stored) byOrigin.set(r.o, [...(byOrigin.get(r.o) ?? []), r]);
  const sizes = new Map<string, number>();
  for (const [origin, list] of byOrigin) {
    list.forEach((r, k) => expect(r.i).toBe(String(k)));
    const roots = new Map<number, string>();
    const tree = new CompactTree();
    for (const r of list) {
      tree.appendLatin1(auditLeafLatin1({ origin, index: tree.size, timeNs: BigInt(r.ns), category: r.Category, outcome: r.Outcome, service: r.ServiceName, bodyHashHex: r.LogBodyHash }));
      roots.set(tree.size, tree.root().toString('base64'));
    }
    const cps = witness.records.filter((c) => c.origin === origin);
    expect(cps.length).toBeGreaterThan(0);
    let previous = 0;
    for (const c of cps) {
      const cp = parseCheckpoint(openNote(c.note, verifiers).text);
      expect(cp.size).toBeGreaterThan(0); // an empty log is not checkpointed
      expect(cp.size).toBeGreaterThanOrEqual(previous); // never a smaller tree after a larger one
      previous = cp.size;
      expect(cp.root.toString('base64')).toBe(roots.get(cp.size));
    }
    // The newest checkpoint covers every classified event; only the store's own access events
    // (raised while it stopped, or by the test's queries since) may follow it.
    for (const r of list.slice(cps.at(-1)!.size)) expect(['data_access', 'authentication']).toContain(r.Category);
    sizes.set(origin, list.length);
  }
  return sizes;
}
