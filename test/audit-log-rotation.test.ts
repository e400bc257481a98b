/**
 * Key rotation without invalidating old checkpoints: ./pipeline.yaml signs
 * with its first key, is stopped, `trailhouse keys --rotate` makes a new
 * key (the old verifier key stays in `verifiers`), and after a restart the
 * same log goes on under the new key. `trailhouse verify` with both
 * verifier keys finds every checkpoint valid; with only the new key the
 * old checkpoints are not trusted, and it says so (exit 1).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { keysCommand } from '../bin/commands/keys.ts';
import { verifyCommand } from '../bin/commands/verify.ts';
import { encodeLogsProto } from '../core/otlp/index.ts';
import { readWitnessFile } from '../lib/audit/witness.ts';
import { makeBatch } from '../scripts/bench/workload.ts';
import { count, defaultPipelineOnFreePorts } from './default-pipeline.ts';
import { waitFor } from './helpers.ts';
import { Trailhouse } from './process.ts';
import { expectVerifies } from './verify-check.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-auditlog-rotate-'));
let running: Trailhouse | undefined;
afterAll(async () => {
  await running?.kill9();
  rmSync(dir, { recursive: true, force: true });
});

const quiet = { out: () => undefined, err: () => undefined };

describe('audit log: key rotation', () => {
  it('old checkpoints stay valid under the retired key; the log goes on under the new one', async () => {
    const p = await defaultPipelineOnFreePorts();
    p.cfg.processors.correlate.wait = '1s';
    const yaml = p.yaml();
    const witness = join(dir, 'data', 'witness', 'audit-checkpoints.jsonl');
    const keyFile = join(dir, 'data', 'keys', 'audit-checkpoint.key');
    const verifiers = join(dir, 'data', 'keys', 'verifiers');
    const send = async (from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const r = await fetch(`http://127.0.0.1:${p.http}/v1/logs`, { method: 'POST', body: Buffer.from(encodeLogsProto(makeBatch(100, i).logs)), headers: { 'content-type': 'application/x-protobuf' } });
        expect(r.status).toBe(200);
      }
    };

    running = await Trailhouse.start(dir, 'pipeline', yaml);
    await send(0, 5);
    await waitFor(async () => (await count(p.query, 'SELECT count() FROM otel.otel_logs')) >= 1000, 60_000, 'the first records stored');
    expect(await running.stop()).toBe(0);
    const before = readWitnessFile(witness).records;
    expect(before.length).toBeGreaterThan(0);
    const oldKey = readFileSync(keyFile, 'utf8');

    expect(await keysCommand(['--rotate', '--key-file', keyFile], quiet)).toBe(0);
    expect(readFileSync(keyFile, 'utf8')).not.toBe(oldKey);
    const vkeys = readFileSync(verifiers, 'utf8').split('\n').filter(Boolean);
    expect(vkeys).toHaveLength(2);

    running = await Trailhouse.start(dir, 'pipeline', yaml);
    await send(5, 10);
    await waitFor(async () => (await count(p.query, 'SELECT count() FROM otel.otel_logs')) >= 2000, 60_000, 'the later records stored');
    expect(await running.stop()).toBe(0);
    const after = readWitnessFile(witness).records;
    const keysUsed = new Set(after.map((r) => r.key));
    expect(keysUsed.size).toBe(2); // signed by the old key, then by the new one
    expect(after.at(-1)!.size).toBeGreaterThan(before.at(-1)!.size); // the same log went on

    running = await Trailhouse.start(dir, 'pipeline', yaml);
    await expectVerifies(`http://127.0.0.1:${p.query}`, witness, verifiers);
    // An auditor who only has the new key cannot vouch for what the old one signed.
    const out: string[] = [];
    const code = await verifyCommand(['--endpoint', `http://127.0.0.1:${p.query}`, '--checkpoints', witness, '--pubkey', vkeys[1]!, '--json'], { out: (s) => void out.push(s), err: () => undefined });
    expect(code).toBe(1);
    const report = JSON.parse(out.join('')) as { origins: { checkpoints: { valid: boolean }[] }[] };
    const verdicts = report.origins.flatMap((o) => o.checkpoints.map((c) => c.valid));
    expect(verdicts).toContain(true);
    expect(verdicts).toContain(false);
  }, 240_000);
});
