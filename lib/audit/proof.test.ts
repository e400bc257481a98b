/**
 * Inclusion proofs: built and checked by trailhouse, and checked the way
 * README tells an auditor to, without trailhouse — scripts/check-proof.py
 * (python3 hashlib; Ed25519 by the `cryptography` package and by openssl,
 * each tested where the machine has it, at least one required).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseVerifierKey } from '../tlog/note.ts';
import { buildProof, checkProof, type AuditProof } from './proof.ts';
import { checkpointNote, leafOf, newSigner, syntheticLog } from './testdata/synthetic-log.ts';
import { rootOf } from '../tlog/tree.ts';
import type { BodyFields } from './leaf.ts';
import type { StoredRow } from './verify-types.ts';

const log = syntheticLog(1000, [600, 1000], newSigner());
const leaves = log.rows.map(leafOf);
const note = log.checkpoints.find((c) => c.claimed?.size === 1000)!.note;
const dir = mkdtempSync(join(tmpdir(), 'th-proof-'));

describe('proof', () => {
  it('has ceil(log2 n) hashes and checks with the trusted key only', () => {
    const trusted = [parseVerifierKey(log.vkey)];
    const good = buildProof(log.rows[437]! as StoredRow & BodyFields, leaves, 1000, note);
    expect(good.proof.length).toBe(10);
    expect(checkProof(good, trusted)).toMatchObject({ ok: true });
    expect(checkProof(good, [parseVerifierKey(syntheticLog(1, [1], newSigner('other')).vkey)]).steps.at(-1)).toMatchObject({ step: 'signature', ok: false });
    expect(checkProof({ ...good, row: { ...good.row, Principal: 'someone else' } }, trusted).steps.at(-1)).toMatchObject({ step: 'body hash', ok: false });
    // A proof against another tree's checkpoint (the one of size 600 claims another size).
    const older = log.checkpoints.find((c) => c.claimed?.size === 600)!.note;
    expect(checkProof({ ...good, checkpoint: older }, trusted).steps.at(-1)).toMatchObject({ step: 'checkpoint', ok: false });
    expect(checkProof({ ...good, proof: good.proof.slice(1) }, trusted).steps.at(-1)).toMatchObject({ step: 'inclusion', ok: false });
    expect(() => buildProof({ ...log.rows[437]!, principal: 'x' } as StoredRow & BodyFields, leaves, 1000, note)).toThrow(/does not match its leaf/);
  });
});

function backends(): string[] {
  const out: string[] = [];
  if (spawnSync('python3', ['-c', 'import cryptography']).status === 0) out.push('cryptography');
  if (spawnSync('openssl', ['version']).status === 0) out.push('openssl');
  return out;
}

function runScript(doc: AuditProof, vkey: string, backend: string) {
  const file = join(dir, `p-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(doc));
  return spawnSync('python3', [join(import.meta.dirname, '../../scripts/check-proof.py'), file, vkey], {
    encoding: 'utf8',
    env: { ...process.env, CHECK_PROOF_ED25519: backend },
  });
}

describe('an auditor checks a proof without trailhouse (scripts/check-proof.py)', () => {
  const found = backends();
  it('python3 and an Ed25519 verifier are available', () => {
    expect(spawnSync('python3', ['--version']).status).toBe(0);
    expect(found.length).toBeGreaterThan(0);
  });
  const good = buildProof(log.rows[437]! as StoredRow & BodyFields, leaves, 1000, note);
  for (const backend of found) {
    it(`accepts a valid proof and refuses tampered ones (Ed25519 by ${backend})`, () => {
      const ok = runScript(good, log.vkey, backend);
      expect(ok.stderr).toBe('');
      expect(ok.stdout).toContain('proof valid');
      expect(ok.status).toBe(0);
      // Non-ASCII detail keys: the script's byte order of keys is leaf.ts's.
      const unicodeLog = syntheticLog(5, [5], log.signer);
      const u = { ...unicodeLog.rows[2]!, details: { 'ünïcode-kéy': '✓', Z: '', a: 'x', 'é': '' } } as StoredRow & BodyFields;
      const uLeaves = unicodeLog.rows.map((r, i) => (i === 2 ? leafOf(u) : leafOf(r)));
      const uNote = checkpointNote(log.signer, unicodeLog.rows[0]!.origin, 5, rootOf(uLeaves), new Date(Date.UTC(2024, 4, 14)));
      expect(runScript(buildProof(u, uLeaves, 5, uNote), log.vkey, backend).status).toBe(0);
      const changed = runScript({ ...good, row: { ...good.row, Resource: '/elsewhere' } }, log.vkey, backend);
      expect(changed.status).toBe(1);
      expect(changed.stdout).toMatch(/FAIL body hash/);
      const otherKey = runScript(good, syntheticLog(1, [1], newSigner('test.example')).vkey, backend);
      expect(otherKey.status).toBe(1);
      const badSig = runScript({ ...good, checkpoint: good.checkpoint.replace(/ ([A-Za-z0-9+/]{10})/, (_m, p: string) => ` ${p.slice(0, 9)}${p[9] === 'A' ? 'B' : 'A'}`) }, log.vkey, backend);
      expect(badSig.stdout).toMatch(/FAIL (signature|verifier key)/);
      expect(badSig.status).toBe(1);
      const wrongPath = runScript({ ...good, proof: [...good.proof.slice(1), good.proof[0]!] }, log.vkey, backend);
      expect(wrongPath.stdout).toMatch(/FAIL inclusion/);
    });
  }
});
