import { describe, expect, it } from 'vitest';
import { generateKeyPairSync, sign } from 'node:crypto';
import { signerFromPrivateKey, verifierKeyOf } from './keys.ts';
import { NoteError, noteKeyId, openNote, parseVerifierKey, signNote, verifierKey } from './note.ts';
import type { NoteSigner } from './note.ts';

// Known answers from Go's golang.org/x/mod/sumdb/note/note_test.go (BSD-3-Clause):
// a private key string, its verifier key, and the notes it signs. Ed25519 is
// deterministic, so signing the same text must give these bytes exactly.
const PETER_SKEY = 'PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz';
const PETER_VKEY = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const ENOCH_VKEY = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const TEXT = "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_SIG = '\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n';
const ENOCH_SIG = '\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n';

const peter = (): NoteSigner => signerFromPrivateKey(PETER_SKEY);
const peterV = parseVerifierKey(PETER_VKEY);
const enochV = parseVerifierKey(ENOCH_VKEY);

describe('signed notes: Go known answers', () => {
  it('the private key string gives the known key id and verifier key', () => {
    const s = peter();
    expect(s.name).toBe('PeterNeumann');
    expect(s.keyId).toBe(0xc74f20a3);
    expect(verifierKeyOf(s)).toBe(PETER_VKEY);
    expect(noteKeyId('PeterNeumann', s.publicKey)).toBe(0xc74f20a3);
    expect(peterV.keyId).toBe(0xc74f20a3);
    expect(enochV.keyId).toBe(0xaf0cfe78);
  });

  it('signs byte-identically to Go', () => {
    expect(signNote(TEXT, [peter()])).toBe(`${TEXT}\n${PETER_SIG}`);
  });

  it('opens Go notes: one known key verified, the other listed unverified; both known: both verified', () => {
    const note = `${TEXT}\n${PETER_SIG}${ENOCH_SIG}`;
    expect(openNote(note, [peterV])).toEqual({
      text: TEXT,
      signatures: [
        { name: 'PeterNeumann', keyId: 0xc74f20a3, verified: true },
        { name: 'EnochRoot', keyId: 0xaf0cfe78, verified: false },
      ],
    });
    expect(openNote(note, [peterV, enochV]).signatures.map((s) => s.verified)).toEqual([true, true]);
    expect(openNote(note, [enochV]).signatures.map((s) => s.verified)).toEqual([false, true]);
  });

  it('no known key: NoteError naming the keys that did sign', () => {
    expect(() => openNote(`${TEXT}\n${PETER_SIG}${ENOCH_SIG}`, [])).toThrow(/no verifiable signatures.*PeterNeumann\+c74f20a3.*EnochRoot\+af0cfe78/);
  });

  it('a bad signature by a known key fails even when another verifies', () => {
    const bad = `${PETER_SIG.slice(0, 60)}ABCD${PETER_SIG.slice(60)}`;
    expect(() => openNote(`${TEXT}\n${bad}`, [peterV])).toThrow(new NoteError('invalid signature for key PeterNeumann+c74f20a3'));
    expect(() => openNote(`${TEXT}\n${ENOCH_SIG}${bad}`, [peterV, enochV])).toThrow(/invalid signature for key PeterNeumann/);
    // The text it covers changed by one character.
    expect(() => openNote(`${TEXT.replace('answer', 'Answer')}\n${PETER_SIG}`, [peterV])).toThrow(/invalid signature/);
  });

  it('verifier keys: every substring and every one-character change of the Go key is refused', () => {
    const b = [...PETER_VKEY];
    let refused = 0;
    for (let i = 0; i <= b.length; i++) {
      for (let j = i + 1; j <= b.length; j++) {
        if (i === 0 && j === b.length) continue;
        expect(() => parseVerifierKey(b.slice(i, j).join('')), b.slice(i, j).join('')).toThrow(NoteError);
        refused++;
      }
    }
    for (let i = 0; i < b.length; i++) {
      const m = b.slice();
      m[i] = String.fromCharCode(m[i].charCodeAt(0) + 1);
      expect(() => parseVerifierKey(m.join('')), m.join('')).toThrow(NoteError);
    }
    expect(refused).toBeGreaterThan(2000);
    expect(() => parseVerifierKey('PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==')).toThrow(NoteError);
    expect(() => parseVerifierKey('PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW')).toThrow(/not an Ed25519 key/);
  });

  it('private keys: every substring and every one-character change of the Go key is refused', () => {
    const b = [...PETER_SKEY];
    for (let i = 0; i <= b.length; i++) {
      for (let j = i + 1; j <= b.length; j++) {
        if (i === 0 && j === b.length) continue;
        expect(() => signerFromPrivateKey(b.slice(i, j).join(''))).toThrow(NoteError);
      }
    }
    for (let i = 0; i < b.length; i++) {
      const m = b.slice();
      m[i] = String.fromCharCode(m[i].charCodeAt(0) + 1);
      expect(() => signerFromPrivateKey(m.join('')), m.join('')).toThrow(NoteError);
    }
  });
});

describe('signed notes: malformed input is refused with the reason', () => {
  const ok = `${TEXT}\n${PETER_SIG}`;
  const cases: [string, string, RegExp][] = [
    ['CRLF line ends', ok.replaceAll('\n', '\r\n'), /malformed note/],
    ['CR in the text', `${TEXT.replace(',\n', ',\r\n')}\n${PETER_SIG}`, /control character/],
    ['text only', TEXT, /no empty line/],
    ['no signatures', `${TEXT}\n`, /signature block is empty/],
    ['missing final newline', ok.slice(0, -1), /does not end with a newline/],
    ['empty line inside the text', `line one\n\nline two\n\n${PETER_SIG}`, /empty line/],
    ['text starts with an empty line', `\n${TEXT}\n${PETER_SIG}`, /empty line/],
    ['em dash replaced by "-"', `${TEXT}\n${PETER_SIG.replace('\u2014', '-')}`, /em dash/],
    ['em dash replaced by en dash', `${TEXT}\n${PETER_SIG.replace('\u2014', '\u2013')}`, /em dash/],
    ['no space after the dash', `${TEXT}\n${PETER_SIG.replace('\u2014 ', '\u2014')}`, /em dash/],
    ['truncated base64', `${TEXT}\n${PETER_SIG.slice(0, -6)}\n`, /not canonical base64/],
    ['base64 without padding', `${TEXT}\n${PETER_SIG.replace('=\n', '\n')}`, /not canonical base64/],
    ['base64 with a stray character', `${TEXT}\n${PETER_SIG.replace('/ZJ', '/Z*J')}`, /not canonical base64/],
    ['too short signature', `${TEXT}\n\u2014 PeterNeumann AAAA\n`, /not canonical base64 of a key id/],
    ['name with a space', `${TEXT}\n\u2014 Bad Name x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`, /not canonical base64|key name/],
    ['a line after the signatures', `${ok}Unexpected line.\n`, /em dash/],
    ['a control character before the text', `\u0001${ok}`, /control character/],
    ['duplicated signature', `${TEXT}\n${PETER_SIG}${PETER_SIG}`, /signed twice/],
    ['duplicated unknown signature', `${TEXT}\n${PETER_SIG}${ENOCH_SIG}${ENOCH_SIG}`, /signed twice/],
    ['101 signatures', `${TEXT}\n${PETER_SIG.repeat(101)}`, /more than 100/],
  ];
  for (const [what, note, why] of cases) {
    it(what, () => {
      expect(() => openNote(note, [peterV, enochV])).toThrow(NoteError);
      expect(() => openNote(note, [peterV, enochV])).toThrow(why);
    });
  }

  it('a signature line with a wrong key id is not the known key: unverified, so the note is refused', () => {
    const sig = Buffer.from(PETER_SIG.slice(15, -1), 'base64');
    sig[3] ^= 1;
    const note = `${TEXT}\n\u2014 PeterNeumann ${sig.toString('base64')}\n`;
    expect(() => openNote(note, [peterV])).toThrow(/no verifiable signatures.*PeterNeumann\+c74f20a2/);
  });

  it('ambiguous verifiers are refused', () => {
    expect(() => openNote(`${TEXT}\n${PETER_SIG}`, [peterV, parseVerifierKey(PETER_VKEY)])).toThrow(/ambiguous key/);
  });
});

describe('signNote', () => {
  it('refuses texts that are not note texts, duplicate signers and bad names', () => {
    const s = peter();
    expect(() => signNote('no newline', [s])).toThrow(/does not end with a newline/);
    expect(() => signNote('', [s])).toThrow(/empty/);
    expect(() => signNote('a\n\nb\n', [s])).toThrow(/empty line/);
    expect(() => signNote('a\r\n', [s])).toThrow(/control character/);
    expect(() => signNote('a\n', [])).toThrow(/no signer/);
    expect(() => signNote('a\n', [s, s])).toThrow(/given twice/);
    expect(() => signNote('a\n', [{ ...s, name: 'a+b' }])).toThrow(/invalid key name/);
    expect(() => signNote('a\n', [{ ...s, sign: () => Buffer.alloc(10) }])).toThrow(/10-byte signature/);
  });

  it('two signers, both verify; each alone is enough; a second unknown signer is listed unverified', () => {
    const a = peter();
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const pub = Buffer.from(publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
    const b: NoteSigner = { name: 'witness.example/w1', keyId: noteKeyId('witness.example/w1', pub), publicKey: pub, sign: (m) => sign(null, m, privateKey) };
    const vA = parseVerifierKey(verifierKeyOf(a));
    const vB = parseVerifierKey(verifierKey(b.name, pub));
    const note = signNote('origin\n1\n', [a, b]);
    expect(note.split('\n\n')[1].split('\n')).toHaveLength(3);
    expect(openNote(note, [vA, vB]).signatures.map((s) => s.verified)).toEqual([true, true]);
    expect(openNote(note, [vB]).signatures).toEqual([
      { name: 'PeterNeumann', keyId: 0xc74f20a3, verified: false },
      { name: 'witness.example/w1', keyId: b.keyId, verified: true },
    ]);
    expect(openNote(note, [vA]).text).toBe('origin\n1\n');
    expect(() => noteKeyId('has space', a.publicKey)).toThrow(NoteError);
    expect(() => verifierKey('x', Buffer.alloc(31))).toThrow(/32 bytes/);
  });
});
