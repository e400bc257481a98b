/**
 * `trailhouse verify` and `trailhouse proof` refuse a `--database` or
 * `--table` that is not a plain name before anything reaches a store: they
 * go into the SQL as identifiers.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifierKey } from '../../lib/tlog/note.ts';
import { proofCommand } from './proof.ts';
import { verifyCommand } from './verify.ts';

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-verify-args-'));
const witness = path.join(dir, 'cp.jsonl');
fs.writeFileSync(witness, '');
// Nothing listens here: a command that got past its checks would fail to connect instead.
const endpoint = 'http://127.0.0.1:9';
const vkey = verifierKey('o.example/log', Buffer.alloc(32, 7));

async function run(cmd: typeof verifyCommand, argv: string[]): Promise<{ code: number; err: string }> {
  let err = '';
  const code = await cmd(argv, { out: () => undefined, err: (s) => void (err += s) });
  return { code, err };
}

describe('verify / proof identifiers', () => {
  for (const [flag, value] of [
    ['--table', 'audit_events; DROP TABLE otel.audit_events'],
    ['--table', "audit_events' OR '1"],
    ['--database', 'otel`.x'],
    ['--database', '__proto__.constructor'],
  ] as const) {
    it(`${flag} ${JSON.stringify(value)} is refused as a usage error`, async () => {
      const v = await run(verifyCommand, ['--endpoint', endpoint, '--checkpoints', witness, '--pubkey', vkey, flag, value]);
      expect(v.code).toBe(2);
      expect(v.err).toContain(`${flag}: expected a name`);
      const p = await run(proofCommand, ['o.example/log@0', '--endpoint', endpoint, '--checkpoints', witness, '--pubkey', vkey, flag, value]);
      expect(p.code).toBe(2);
      expect(p.err).toContain(`${flag}: expected a name`);
    });
  }
});
