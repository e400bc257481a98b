/**
 * The evidence report over the default pipeline run as a process, stopped
 * and started again: the pipeline records its start and stop in the audit
 * trail and its counters in pipeline_stats, so the report lists the restart
 * and the receiver that took the records; the integrity section verifies the
 * real audit log; the signed report verifies with the pipeline's key.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { reportCommand } from '../bin/commands/report.ts';
import { verifyCommand } from '../bin/commands/verify.ts';
import { encodeLogsProto } from '../core/otlp/index.ts';
import { readWitnessFile } from '../lib/audit/witness.ts';
import { figureOf, type ReportFacts } from '../lib/report/facts.ts';
import { makeBatch } from '../scripts/bench/workload.ts';
import { count, defaultPipelineOnFreePorts } from './default-pipeline.ts';
import { waitFor } from './helpers.ts';
import { Trailhouse } from './process.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-report-pipeline-'));
let running: Trailhouse | undefined;
afterAll(async () => {
  await running?.kill9();
  rmSync(dir, { recursive: true, force: true });
});

describe('the report over a restarted pipeline', () => {
  it('lists the restart and the receiver, verifies the trail, and signs with the pipeline key', async () => {
    const from = new Date(Date.now() - 60_000).toISOString();
    const p = await defaultPipelineOnFreePorts();
    p.cfg.processors.correlate.wait = '1s';
    running = await Trailhouse.start(dir, 'pipeline', p.yaml());
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`http://127.0.0.1:${p.http}/v1/logs`, { method: 'POST', body: Buffer.from(encodeLogsProto(makeBatch(100, i).logs)), headers: { 'content-type': 'application/x-protobuf' } });
      expect(r.status).toBe(200);
    }
    const witness = join(dir, 'data', 'witness', 'audit-checkpoints.jsonl');
    await waitFor(() => readWitnessFile(witness).records.length > 0, 60_000, 'the first checkpoint');
    expect(await running.stop()).toBe(0);
    running = await Trailhouse.start(dir, 'pipeline', p.yaml());
    const events = "SELECT count() FROM otel.audit_events WHERE Category = 'configuration' AND Action IN ('pipeline.start', 'pipeline.stop')";
    await waitFor(async () => (await count(p.query, events)) === 3, 30_000, 'start, stop, start in the audit trail');

    const out = join(dir, 'report');
    const keyFile = join(dir, 'data', 'keys', 'audit-checkpoint.key');
    let err = '';
    const code = await reportCommand(['--from', from, '--to', new Date(Date.now() + 60_000).toISOString(), '--out', out, '--endpoint', `http://127.0.0.1:${p.query}`, '--key-file', keyFile, '--checkpoints', witness], {
      out: () => undefined,
      err: (s) => void (err += s),
    });
    expect(err).toBe('');
    expect(code).toBe(0);
    const facts = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')) as ReportFacts;
    const restarts = figureOf(facts, 'pipeline.restarts')!.rows!;
    expect(restarts.map((r) => r.Action)).toEqual(['pipeline.start', 'pipeline.stop', 'pipeline.start']);
    expect(new Set(restarts.map((r) => r.ConfigSha256)).size).toBe(1);
    expect(restarts[0]!.ConfigSha256).toMatch(/^[0-9a-f]{64}$/);
    // The first run's counters were written at its shutdown.
    const receivers = figureOf(facts, 'receivers')!.rows!;
    expect(receivers.find((r) => r.Component === 'receiver/otlp' && r.Signal === 'logs')).toMatchObject({ Accepted: expect.stringMatching(/^\d+$/) });
    expect(Number(receivers.find((r) => r.Component === 'receiver/otlp' && r.Signal === 'logs')!.Accepted)).toBeGreaterThanOrEqual(300);
    expect(facts.integrity).toMatchObject({ ok: true, failures: [] });

    let text = '';
    const v = await verifyCommand(['--report', out, '--key-file', keyFile], { out: (s) => void (text += s), err: () => undefined });
    expect(text).toContain('verified: the report is as signed');
    expect(v).toBe(0);
  }, 180_000);
});
