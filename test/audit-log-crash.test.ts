/**
 * The audit log across `kill -9` of ./pipeline.yaml (temp dir, free ports)
 * while it checkpoints every 100 ms under load: after a restart the log
 * continues — every origin's indexes run from 0 without a gap or a repeat,
 * no audit event is stored twice although the spool replays — and every
 * checkpoint in the witness file verifies with the key's verifier and has
 * the root of the stored rows at its size (the newest one covers them all).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeLogsProto } from '../core/otlp/index.ts';
import { makeBatch } from '../scripts/bench/workload.ts';
import { readWitnessFile } from '../lib/audit/witness.ts';
import { checkAuditLog } from './audit-log-check.ts';
import { expectVerifies } from './verify-check.ts';
import { Trailhouse } from './process.ts';
import { count, defaultPipelineOnFreePorts } from './default-pipeline.ts';
import { waitFor } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-auditlog-crash-'));
let running: Trailhouse | undefined;
afterAll(async () => {
  await running?.kill9();
  rmSync(dir, { recursive: true, force: true });
});

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

    const origins = await checkAuditLog(p.query, read, join(dir, 'data', 'keys', 'verifiers'));
    expect(origins.size).toBe(1);
    // And `trailhouse verify` agrees: every checkpoint valid, every row valid.
    const report = await expectVerifies(`http://127.0.0.1:${p.query}`, witness, join(dir, 'data', 'keys', 'verifiers'));
    expect(report.origins.flatMap((o) => o.checkpoints).length).toBeGreaterThan(2);
  }, 240_000);
});
