/**
 * lib/tlog against an independent implementation: Go's golang.org/x/mod
 * sumdb/note (signed notes, Ed25519 keys) and sumdb/tlog (RFC 6962 trees and
 * proofs), run as scripts/peers/tlog-check. Go must accept exactly what we
 * accept, compute the same roots and proofs, and sign byte-identically with
 * our key file. Needs Go 1.26+ and the Go module proxy (or a warm module cache).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ensureTlogCheck, runTlogCheck } from '../scripts/peers/tlog-check/build.ts';
import { checkpointText, parseCheckpoint } from '../lib/tlog/checkpoint.ts';
import { leafHash } from '../lib/tlog/hash.ts';
import { loadOrCreateSigner, verifierKeyOf } from '../lib/tlog/keys.ts';
import { openNote, parseVerifierKey, signNote } from '../lib/tlog/note.ts';
import { consistencyProof, inclusionProof, rootOf, verifyConsistency, verifyInclusion } from '../lib/tlog/tree.ts';

interface GoNote { ok: boolean; error?: string; text?: string; verified?: string[]; size: number; root?: string }
interface GoProof { ok: boolean; error?: string; proof: string[] | null }
interface GoOut { signed?: string; notes: GoNote[]; roots: string[]; inclusion: GoProof[]; consistency: GoProof[] }

const N = 40;
const b64 = (b: Buffer): string => b.toString('base64');
const flip = (b: Buffer, bit: number): Buffer => {
  const c = Buffer.from(b);
  c[bit >> 3] ^= 1 << (bit & 7);
  return c;
};

let bin = '';
beforeAll(async () => {
  bin = await ensureTlogCheck();
}, 600_000);

describe('lib/tlog agrees with Go sumdb/note and sumdb/tlog', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tlog-peer-'));
  const keyFile = join(dir, 'keys', 'audit-checkpoint.key');
  const signer = loadOrCreateSigner(keyFile, 'peer.example/trailhouse');
  const vkey = verifierKeyOf(signer);
  const verifier = parseVerifierKey(vkey);
  const leaves = Array.from({ length: N }, (_, i) => leafHash(Buffer.from(`audit row ${i}`)));
  const roots = Array.from({ length: N + 1 }, (_, n) => rootOf(leaves, 0, n));

  it('signed checkpoints: Go opens exactly the notes we open, reads the same size and root, and signs identically with our key file', async () => {
    const origin = 'peer.example/trailhouse/audit';
    const good = [0, 1, 7, 8, N].map((n) => signNote(checkpointText({ origin, size: n, root: roots[n], time: new Date(Date.UTC(2026, 11, 7, 11, 0, n)) }), [signer]));
    const base = good[4];
    const sigAt = base.lastIndexOf(' ') + 1;
    const tampered = [
      base.replace(`\n${N}\n`, `\n${N + 1}\n`), // size changed after signing
      base.replace(b64(roots[N]), b64(roots[N - 1])), // root swapped
      `${base.slice(0, sigAt)}${b64(flip(Buffer.from(base.slice(sigAt, -1), 'base64'), 100))}\n`, // signature bit flipped
      base.replace('\u2014', '-'),
      base.replaceAll('\n', '\r\n'),
      base.slice(0, -1),
      `${base}${base.slice(base.lastIndexOf('\n\n') + 2)}`, // the same signature twice: Go tolerates, we refuse
    ];
    const text = checkpointText({ origin, size: 3, root: roots[3] });
    const go = (await runTlogCheck(bin, { privateKey: readFileSync(keyFile, 'utf8').trim(), text, vkey, notes: [...good, ...tampered], leaves: [], inclusion: [], consistency: [] })) as GoOut;
    expect(go.signed).toBe(signNote(text, [signer]));
    const all = [...good, ...tampered];
    for (const [i, note] of all.entries()) {
      let ours: { ok: boolean; size?: number; root?: string } = { ok: false };
      try {
        const c = parseCheckpoint(openNote(note, [verifier]).text);
        ours = { ok: true, size: c.size, root: b64(c.root) };
      } catch {
        ours = { ok: false };
      }
      const g = go.notes[i];
      if (i === all.length - 1) {
        // Go's note.Open drops a repeated signature; we refuse the note (fail closed).
        expect(g.ok).toBe(true);
        expect(ours.ok).toBe(false);
        continue;
      }
      expect({ i, ok: g.ok }, g.error).toEqual({ i, ok: ours.ok });
      if (ours.ok) {
        expect(g.verified).toEqual([`${signer.name}+${signer.keyId.toString(16).padStart(8, '0')}`]);
        expect({ size: g.size, root: g.root }).toEqual({ size: ours.size, root: ours.root });
      }
    }
    expect(go.notes.slice(0, good.length).every((g) => g.ok)).toBe(true);
  });

  it('roots, inclusion and consistency proofs: Go computes the same and accepts exactly what we accept', async () => {
    const inclusion: { index: number; size: number; leaf: string; root: string; proof: string[] }[] = [];
    for (let n = 1; n <= N; n++) {
      for (let i = 0; i < n; i++) {
        const p = inclusionProof(i, n, leaves);
        const c = { index: i, size: n, leaf: b64(leaves[i]), root: b64(roots[n]), proof: p.map(b64) };
        inclusion.push(c);
        if (p.length > 0) inclusion.push({ ...c, proof: [b64(flip(p[0], (i + n) % 256)), ...c.proof.slice(1)] });
        inclusion.push({ ...c, index: (i + 1) % n });
        inclusion.push({ ...c, proof: [...c.proof, b64(roots[n])] });
      }
    }
    const consistency: { m: number; n: number; rootM: string; rootN: string; proof: string[] }[] = [];
    for (let n = 1; n <= N; n++) {
      for (let m = 1; m <= n; m++) {
        const p = consistencyProof(m, n, leaves);
        const c = { m, n, rootM: b64(roots[m]), rootN: b64(roots[n]), proof: p.map(b64) };
        consistency.push(c);
        if (p.length > 0) consistency.push({ ...c, proof: [...c.proof.slice(0, -1), b64(flip(p[p.length - 1], m % 256))] });
        if (m < n) consistency.push({ ...c, rootM: b64(roots[m - 1]) });
        consistency.push({ ...c, proof: c.proof.slice(1) });
      }
    }
    const go = (await runTlogCheck(bin, { vkey, notes: [], leaves: leaves.map(b64), inclusion, consistency })) as GoOut;
    expect(go.roots).toEqual(roots.map(b64));

    const buf = (s: string): Buffer => Buffer.from(s, 'base64');
    let accepted = 0;
    for (const [k, c] of inclusion.entries()) {
      const ours = verifyInclusion(c.index, c.size, buf(c.leaf), c.proof.map(buf), buf(c.root));
      expect({ k, ...c, ok: go.inclusion[k].ok }).toEqual({ k, ...c, ok: ours });
      expect(go.inclusion[k].proof ?? []).toEqual(inclusionProof(c.index, c.size, leaves).map(b64));
      if (ours) accepted++;
    }
    // Every genuine proof and no tampered one (the "next index" of a 1-leaf tree is index 0 itself).
    expect(accepted).toBe((N * (N + 1)) / 2 + 1);
    accepted = 0;
    for (const [k, c] of consistency.entries()) {
      const ours = verifyConsistency(c.m, c.n, buf(c.rootM), buf(c.rootN), c.proof.map(buf));
      expect({ k, ...c, ok: go.consistency[k].ok }).toEqual({ k, ...c, ok: ours });
      expect(go.consistency[k].proof ?? []).toEqual(consistencyProof(c.m, c.n, leaves).map(b64));
      if (ours) accepted++;
    }
    // Genuine proofs, plus m = n with the proof's (empty) tail dropped, which is the same empty proof.
    expect(accepted).toBe((N * (N + 1)) / 2 + N);
  });
});
