/**
 * `trailhouse keys`: prints current and retired verifier keys; --rotate
 * keeps the old one trusted so its checkpoints still verify; --generate
 * refuses to overwrite. And `verify --proof`'s exit codes, offline.
 */
import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { keysCommand } from './keys.ts';
import { verifyCommand } from './verify.ts';
import { buildProof } from '../../lib/audit/proof.ts';
import { leafOf, newSigner, syntheticLog } from '../../lib/audit/testdata/synthetic-log.ts';
import { signerFromPrivateKey } from '../../lib/tlog/keys.ts';
import type { BodyFields } from '../../lib/audit/leaf.ts';
import type { StoredRow } from '../../lib/audit/verify-types.ts';

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) }, out, err };
}

describe('trailhouse keys', () => {
  it('--generate makes a 0600 key and its verifiers file; rotate keeps the old vkey as retired', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'th-keys-'));
    const file = join(dir, 'keys', 'audit-checkpoint.key');
    const g = capture();
    expect(await keysCommand(['--generate', file, '--name', 'example.org/audit'], g.io)).toBe(0);
    const first = g.out.join('').trim();
    expect(first).toMatch(/^example\.org\/audit\+[0-9a-f]{8}\+/);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(await keysCommand(['--generate', file], capture().io)).toBe(2);

    const r = capture();
    expect(await keysCommand(['--rotate', '--key-file', file], r.io)).toBe(0);
    const second = r.out.join('').trim();
    expect(second).not.toBe(first);
    expect(signerFromPrivateKey(readFileSync(file, 'utf8')).name).toBe('example.org/audit');
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const p = capture();
    expect(await keysCommand(['--key-file', file], p.io)).toBe(0);
    expect(p.out.join('')).toBe(`current  ${second}\nretired  ${first}\n`);
    expect(readFileSync(join(dir, 'keys', 'verifiers'), 'utf8')).toBe(`${first}\n${second}\n`);
  });

  it('no key and no verifiers file: exit 2 with the reason', async () => {
    const c = capture();
    expect(await keysCommand(['--key-file', join(mkdtempSync(join(tmpdir(), 'th-keys-')), 'none.key')], c.io)).toBe(2);
    expect(c.err.join('')).toMatch(/creates them at its first start/);
  });
});

describe('trailhouse verify --proof (offline)', () => {
  const log = syntheticLog(20, [20], newSigner());
  const leaves = log.rows.map(leafOf);
  const proof = buildProof(log.rows[7]! as StoredRow & BodyFields, leaves, 20, log.checkpoints.at(-1)!.note);
  const dir = mkdtempSync(join(tmpdir(), 'th-proofcli-'));
  const file = join(dir, 'proof.json');
  writeFileSync(file, JSON.stringify(proof));

  it('exit 0 for a valid proof, 1 for a changed one, 2 for unreadable input or no trusted key', async () => {
    const ok = capture();
    expect(await verifyCommand(['--proof', file, '--pubkey', log.vkey], ok.io)).toBe(0);
    expect(ok.out.join('')).toContain('proof valid');
    const j = capture();
    expect(await verifyCommand(['--proof', file, '--pubkey', log.vkey, '--json'], j.io)).toBe(0);
    expect(JSON.parse(j.out.join(''))).toMatchObject({ ok: true, steps: expect.arrayContaining([{ step: 'inclusion', ok: true, detail: expect.any(String) }]) });

    const changed = join(dir, 'changed.json');
    writeFileSync(changed, JSON.stringify({ ...proof, row: { ...proof.row, Outcome: 'denied' } }));
    expect(await verifyCommand(['--proof', changed, '--pubkey', log.vkey], capture().io)).toBe(1);

    const junk = join(dir, 'junk.json');
    writeFileSync(junk, '{not json');
    expect(await verifyCommand(['--proof', junk, '--pubkey', log.vkey], capture().io)).toBe(2);
    const e = capture();
    expect(await verifyCommand(['--proof', file, '--pubkey', 'not-a-key'], e.io)).toBe(2);
    expect(e.err.join('')).toMatch(/neither a verifier key/);
    const keys = join(dir, 'verifiers');
    writeFileSync(keys, `# trusted\n${log.vkey}\n`);
    expect(await verifyCommand(['--proof', file, '--pubkey', keys], capture().io)).toBe(0);
  });
});
