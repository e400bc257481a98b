/**
 * `trailhouse verify` as an auditor would run it against a pipeline whose
 * query interface has users: with a user of the `auditor` role (audit tables
 * only) every page it reads is admitted and the trail verifies (exit 0); a
 * wrong password is a clear error (exit 2), never a verdict.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyCommand } from '../bin/commands/verify.ts';
import { encodeLogsProto } from '../core/otlp/index.ts';
import { readWitnessFile } from '../lib/audit/witness.ts';
import { makeBatch } from '../scripts/bench/workload.ts';
import { defaultPipelineOnFreePorts } from './default-pipeline.ts';
import { waitFor } from './helpers.ts';
import { Trailhouse } from './process.ts';
import { expectVerifies } from './verify-check.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-verify-auditor-'));
let running: Trailhouse | undefined;
afterAll(async () => {
  await running?.kill9();
  rmSync(dir, { recursive: true, force: true });
});

describe('verify with the auditor role', () => {
  it('reads every page it needs as an auditor; a wrong password is a usage error, not a verdict', async () => {
    const p = await defaultPipelineOnFreePorts();
    p.cfg.processors.correlate.wait = '1s';
    p.cfg.extensions.clickhouse_store.query_users = { soc2: { password_sha256_hex: createHash('sha256').update('s3cret').digest('hex'), role: 'auditor' } };
    running = await Trailhouse.start(dir, 'pipeline', p.yaml());
    for (let i = 0; i < 4; i++) {
      const r = await fetch(`http://127.0.0.1:${p.http}/v1/logs`, { method: 'POST', body: Buffer.from(encodeLogsProto(makeBatch(100, i).logs)), headers: { 'content-type': 'application/x-protobuf' } });
      expect(r.status).toBe(200);
    }
    const witness = join(dir, 'data', 'witness', 'audit-checkpoints.jsonl');
    await waitFor(() => readWitnessFile(witness).records.length > 0, 60_000, 'the first checkpoint');
    const report = await expectVerifies(`http://127.0.0.1:${p.query}`, witness, join(dir, 'data', 'keys', 'verifiers'), ['--user', 'soc2', '--password', 's3cret']);
    expect(report.origins.length).toBe(1);

    let err = '';
    const code = await verifyCommand(['--endpoint', `http://127.0.0.1:${p.query}`, '--checkpoints', witness, '--pubkey', join(dir, 'data', 'keys', 'verifiers'), '--user', 'soc2', '--password', 'wrong'], {
      out: () => undefined,
      err: (s) => void (err += s),
    });
    expect(code).toBe(2);
    expect(err).toMatch(/401|authentication|password/i);
  }, 120_000);
});
