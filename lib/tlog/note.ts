/**
 * C2SP signed notes (https://c2sp.org/signed-note) with Ed25519 keys, the
 * format of Go's golang.org/x/mod/sumdb/note:
 *
 *   <text: lines, each ending "\n", none empty>
 *   <empty line>
 *   — <key name> <base64(4-byte key id, big-endian ‖ 64-byte Ed25519 signature of the text)>
 *   ...
 *
 * A key id is the first 4 bytes of SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key);
 * a verifier key is written "name+<8 hex key id>+base64(0x01 ‖ public key)".
 * Opening fails closed: anything malformed, any signature by a known key that
 * does not verify, or no signature by a known key at all is a NoteError.
 */
import { createHash, createPublicKey, verify as cryptoVerify } from 'node:crypto';
import type { KeyObject } from 'node:crypto';
import { decodeBase64 } from './base64.ts';

export interface NoteSigner { name: string; keyId: number; publicKey: Buffer; sign(msg: Buffer): Buffer }
export interface NoteVerifier { name: string; keyId: number; verify(msg: Buffer, sig: Buffer): boolean }

export class NoteError extends Error {
  override name = 'NoteError';
}

/** The algorithm byte of Ed25519 keys in key ids and verifier keys. */
export const ALG_ED25519 = 0x01;
const SIG_PREFIX = '\u2014 '; // em dash, space
const MAX_SIGNATURES = 100; // as Go's note.Open: a note with more is malformed
const ED25519_SIG = 64;
// DER header of an Ed25519 SubjectPublicKeyInfo (RFC 8410): what node:crypto
// takes for a raw 32-byte public key.
const SPKI_ED25519 = Buffer.from('302a300506032b6570032100', 'hex');

/** Key names (C2SP): non-empty, no Unicode whitespace, no '+'. */
export function validKeyName(name: unknown): name is string {
  return typeof name === 'string' && name.length > 0 && !/[\s+]/u.test(name) && wellFormed(name);
}

function wellFormed(s: string): boolean {
  // A lone surrogate does not survive UTF-8: such a string has no byte form to sign.
  return Buffer.from(s, 'utf8').toString('utf8') === s;
}

const hex8 = (id: number): string => id.toString(16).padStart(8, '0');

/** uint32 BE of SHA-256(name ‖ "\n" ‖ 0x01 ‖ pub)[0:4]. */
export function noteKeyId(name: string, publicKey: Buffer): number {
  if (!validKeyName(name)) throw new NoteError(`invalid key name ${JSON.stringify(name)}: it must be non-empty, without whitespace or '+'`);
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) throw new NoteError('an Ed25519 public key is 32 bytes');
  return createHash('sha256').update(name, 'utf8').update('\n').update(Buffer.from([ALG_ED25519])).update(publicKey).digest().readUInt32BE(0);
}

/** The verifier key line "name+hhhhhhhh+base64(0x01‖pub)" that others use to check our notes. */
export function verifierKey(name: string, publicKey: Buffer): string {
  const id = noteKeyId(name, publicKey);
  return `${name}+${hex8(id)}+${Buffer.concat([Buffer.from([ALG_ED25519]), publicKey]).toString('base64')}`;
}

/** A verifier for a raw 32-byte Ed25519 public key. */
export function ed25519Verifier(name: string, publicKey: Buffer): NoteVerifier {
  const keyId = noteKeyId(name, publicKey);
  const key: KeyObject = createPublicKey({ key: Buffer.concat([SPKI_ED25519, publicKey]), format: 'der', type: 'spki' });
  return {
    name,
    keyId,
    verify(msg: Buffer, sig: Buffer): boolean {
      if (!(sig instanceof Uint8Array) || sig.length !== ED25519_SIG) return false;
      try {
        return cryptoVerify(null, msg, key, sig);
      } catch {
        return false;
      }
    },
  };
}

/** Parses a verifier key line; throws NoteError saying what is wrong with it. */
export function parseVerifierKey(vkey: string): NoteVerifier {
  if (typeof vkey !== 'string') throw new NoteError('a verifier key is a string "name+hex8+base64key"');
  const parts = vkey.split('+');
  // base64 may itself contain '+': the name has none, the id has none, the rest is the key.
  if (parts.length < 3) throw new NoteError(`malformed verifier key ${JSON.stringify(vkey)}: want "name+hex8+base64key"`);
  const [name, id] = parts;
  const key64 = parts.slice(2).join('+');
  if (!validKeyName(name)) throw new NoteError(`malformed verifier key: invalid key name ${JSON.stringify(name)}`);
  if (!/^[0-9a-f]{8}$/.test(id)) throw new NoteError(`malformed verifier key ${name}: key id ${JSON.stringify(id)} is not 8 lower-case hex digits`);
  const key = decodeBase64(key64);
  if (!key) throw new NoteError(`malformed verifier key ${name}+${id}: the key is not canonical base64`);
  if (key.length !== 33 || key[0] !== ALG_ED25519) {
    throw new NoteError(`verifier key ${name}+${id}: not an Ed25519 key (want 0x01 and 32 bytes, got ${key.length} bytes starting 0x${(key[0] ?? 0).toString(16)})`);
  }
  const v = ed25519Verifier(name, key.subarray(1));
  if (v.keyId !== Number.parseInt(id, 16)) throw new NoteError(`verifier key ${name}+${id}: the key id does not match the name and key (want ${hex8(v.keyId)})`);
  return v;
}

/** Why `text` cannot be a note text, or null when it can. */
function textProblem(text: string): string | null {
  if (typeof text !== 'string' || text.length === 0) return 'the text is empty';
  if (!text.endsWith('\n')) return 'the text does not end with a newline';
  if (text.startsWith('\n') || text.includes('\n\n')) return 'the text has an empty line';
  if (/[\u0000-\u0009\u000b-\u001f]/.test(text)) return 'the text has a control character other than newline (CR, tab, ...)';
  if (!wellFormed(text)) return 'the text is not valid Unicode (lone surrogate)';
  return null;
}

/** The note: text, an empty line, one signature line per signer (in the order given). */
export function signNote(text: string, signers: readonly NoteSigner[]): string {
  const why = textProblem(text);
  if (why) throw new NoteError(`cannot sign: ${why}`);
  if (!Array.isArray(signers) || signers.length === 0) throw new NoteError('cannot sign: no signer');
  const msg = Buffer.from(text, 'utf8');
  const seen = new Set<string>();
  let out = `${text}\n`;
  for (const s of signers) {
    if (!validKeyName(s.name)) throw new NoteError(`cannot sign: invalid key name ${JSON.stringify(s.name)}`);
    if (!Number.isInteger(s.keyId) || s.keyId < 0 || s.keyId > 0xffffffff) throw new NoteError(`cannot sign: key ${s.name} has no uint32 key id`);
    const k = `${s.name}+${hex8(s.keyId)}`;
    if (seen.has(k)) throw new NoteError(`cannot sign: key ${k} given twice`);
    seen.add(k);
    const sig = s.sign(msg);
    if (!(sig instanceof Uint8Array) || sig.length !== ED25519_SIG) throw new NoteError(`cannot sign: key ${k} gave a ${sig?.length}-byte signature, not 64`);
    const id = Buffer.alloc(4);
    id.writeUInt32BE(s.keyId);
    out += `${SIG_PREFIX}${s.name} ${Buffer.concat([id, sig]).toString('base64')}\n`;
  }
  return out;
}

export interface OpenedNote {
  text: string;
  signatures: { name: string; keyId: number; verified: boolean }[];
}

/**
 * Checks a signed note against known verifiers. Signatures by unknown keys
 * are listed with verified: false; a signature by a known key (same name and
 * key id) that does not verify, a malformed note, a key that signed twice, or
 * no verified signature at all throws a NoteError with the reason.
 */
export function openNote(note: string, verifiers: readonly NoteVerifier[]): OpenedNote {
  if (typeof note !== 'string') throw new NoteError('malformed note: not a string');
  if (!Array.isArray(verifiers)) throw new NoteError('openNote: verifiers must be an array');
  if (/[\u0000-\u0009\u000b-\u001f]/.test(note)) throw new NoteError('malformed note: a control character other than newline (CR, tab, ...)');
  const cut = note.lastIndexOf('\n\n');
  if (cut < 0) throw new NoteError('malformed note: no empty line between the text and the signatures');
  const text = note.slice(0, cut + 1);
  const why = textProblem(text);
  if (why) throw new NoteError(`malformed note: ${why}`);
  const block = note.slice(cut + 2);
  if (block.length === 0 || !block.endsWith('\n')) throw new NoteError('malformed note: the signature block is empty or does not end with a newline');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw new NoteError(`malformed note: more than ${MAX_SIGNATURES} signatures`);
  const msg = Buffer.from(text, 'utf8');
  const seen = new Set<string>();
  const signatures: OpenedNote['signatures'] = [];
  let verifiedCount = 0;
  for (const [i, line] of lines.entries()) {
    const where = `signature line ${i + 1}`;
    if (!line.startsWith(SIG_PREFIX)) throw new NoteError(`malformed note: ${where} does not start with an em dash (U+2014) and a space`);
    const rest = line.slice(SIG_PREFIX.length);
    const sp = rest.indexOf(' ');
    const name = sp < 0 ? rest : rest.slice(0, sp);
    if (sp < 0 || !validKeyName(name)) throw new NoteError(`malformed note: ${where} has no valid key name followed by a space`);
    const sig = decodeBase64(rest.slice(sp + 1));
    if (!sig || sig.length < 5) throw new NoteError(`malformed note: ${where} (${name}): the signature is not canonical base64 of a key id and a signature`);
    const keyId = sig.readUInt32BE(0);
    const key = `${name}+${hex8(keyId)}`;
    if (seen.has(key)) throw new NoteError(`malformed note: key ${key} signed twice`);
    seen.add(key);
    const known = verifiers.filter((v) => v.name === name && v.keyId === keyId);
    if (known.length > 1) throw new NoteError(`ambiguous key ${key}: more than one verifier has this name and id`);
    if (known.length === 0) {
      signatures.push({ name, keyId, verified: false });
      continue;
    }
    if (!known[0].verify(msg, sig.subarray(4))) throw new NoteError(`invalid signature for key ${key}`);
    signatures.push({ name, keyId, verified: true });
    verifiedCount++;
  }
  if (verifiedCount === 0) {
    throw new NoteError(`note has no verifiable signatures (signed by ${signatures.map((s) => `${s.name}+${hex8(s.keyId)}`).join(', ')}; none is a known key)`);
  }
  return { text, signatures };
}
