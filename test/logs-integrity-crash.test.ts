/**
 * The Merkle log over otel_logs (clickhouse exporter `integrity`) across
 * `kill -9` of ./pipeline.yaml (temp dir, free ports) while it checkpoints
 * every 100 ms under load: after a restart the log continues — its indexes
 * run from 0 without a gap or a repeat, no covered record is stored twice
 * although the spool replays — and `trailhouse verify --table otel_logs`
 * finds every checkpoint and row valid, as does the audit trail's verify
 * beside it (one key, one witness file).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeLogsProto } from '../core/otlp/index.ts';
import { makeBatch } from '../scripts/bench/workload.ts';
import { readWitnessFile } from '../lib/audit/witness.ts';
import { expectVerifies } from './verify-check.ts';
import { Trailhouse } from './process.ts';
import { count, defaultPipelineOnFreePorts } from './default-pipeline.ts';
import { waitFor } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-logsintegrity-crash-'));
let running: Trailhouse | undefined;
afterAll(async () => {
  await running?.kill9();
  rmSync(dir, { recursive: true, force: true });
});

describe('otel_logs log: kill -9 while checkpointing', () => {
  it('continues without forks, gaps or repeats, and verify finds every checkpoint and row valid', async () => {
    const p = await defaultPipelineOnFreePorts();
    p.cfg.processors.correlate.wait = '1s';
    p.cfg.exporters.clickhouse.integrity = { enabled: true, services: ['checkout', 'payments'], checkpoint_interval: '100ms' };
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
    const sender = (async () => {
      for (let i = 0; !stop && i < 400; i++) {
        await send(i);
        await new Promise((r) => setTimeout(r, 50));
      }
    })();
    const witness = join(dir, 'data', 'witness', 'audit-checkpoints.jsonl');
    const logsCheckpoints = () => readWitnessFile(witness).records.filter((r) => r.origin.endsWith('/trailhouse/otel.otel_logs')).length;
    await waitFor(() => logsCheckpoints() >= 2, 120_000, 'two otel_logs checkpoints in the witness file');
    await running.kill9();
    stop = true;
    await sender;

    running = await Trailhouse.start(dir, 'pipeline', yaml);
    for (let i = 1000; i < 1010; i++) await send(i);
    await waitFor(async () => (await count(p.query, 'SELECT count() FROM otel.otel_logs')) >= acked, 60_000, 'every acknowledged record stored');
    expect(await running.stop()).toBe(0); // the final checkpoints
    running = await Trailhouse.start(dir, 'pipeline', yaml);

    // One origin; indexes 0..n-1 once each; every covered record once (a replayed spool batch adds no leaf).
    const q = (sql: string) => count(p.query, sql);
    expect(await q("SELECT uniqExact(LogOrigin) FROM otel.otel_logs WHERE LogOrigin != ''")).toBe(1);
    const n = await q("SELECT count() FROM otel.otel_logs WHERE LogOrigin != ''");
    expect(n).toBeGreaterThan(100);
    expect(await q("SELECT uniqExact(LogIndex) FROM otel.otel_logs WHERE LogOrigin != ''")).toBe(n);
    expect(await q("SELECT max(LogIndex) + 1 FROM otel.otel_logs WHERE LogOrigin != ''")).toBe(n);
    expect(await q("SELECT count() - uniqExact(TraceId, SpanId, Timestamp) FROM otel.otel_logs WHERE ServiceName IN ('checkout', 'payments')")).toBe(0);
    expect(await q("SELECT count() FROM otel.otel_logs WHERE ServiceName IN ('checkout', 'payments') AND LogOrigin = ''")).toBe(0);
    expect(await q("SELECT count() FROM otel.otel_logs WHERE ServiceName NOT IN ('checkout', 'payments') AND LogOrigin != ''")).toBe(0);

    const verifiers = join(dir, 'data', 'keys', 'verifiers');
    const report = await expectVerifies(`http://127.0.0.1:${p.query}`, witness, verifiers, ['--table', 'otel_logs']);
    expect(report.origins.flatMap((o) => o.checkpoints).length).toBeGreaterThan(2);
    expect(report.summary.rowsValid).toBe(n);
    await expectVerifies(`http://127.0.0.1:${p.query}`, witness, verifiers);
  }, 240_000);
});
