/**
 * RFC 9162 §2.1.1 hashing with SHA-256: a leaf is SHA-256(0x00 ‖ entry), an
 * interior node SHA-256(0x01 ‖ left ‖ right); the domain-separation byte keeps
 * a leaf from ever being taken for a node (second-preimage attacks).
 */
import * as crypto from 'node:crypto';
import { createHash } from 'node:crypto';

export const HASH_SIZE = 32;

/** SHA-256 of the empty string: the root of the empty tree (RFC 9162 §2.1.1). */
export const EMPTY_ROOT: Buffer = createHash('sha256').digest();

// One scratch buffer holds prefix ‖ input so each hash is a single one-shot
// crypto.hash call: no Hash object and no concatenation per leaf. JavaScript
// runs these synchronously on one thread, so sharing the buffer is safe.
const LEAF_PREFIX = Buffer.from([0x00]);
let scratch = Buffer.allocUnsafe(4096);
/** 0x01 ‖ left ‖ right in scratch: a view made once, not per node (made again when scratch grows). */
let nodeView = scratch.subarray(0, 1 + 2 * HASH_SIZE);
// crypto.hash (one shot, no Hash object) exists from Node 20.12; before, createHash.
const oneShot = (crypto as { hash?: (alg: string, data: Uint8Array, enc: 'buffer') => Buffer }).hash;
const oneShotText = crypto as { hash?: (alg: string, data: Uint8Array, enc: 'binary' | 'hex') => string };
/** SHA-256 as a latin1 string ('binary'): a string result costs a fraction of a Buffer's (see CompactTree). */
export const latin1Sha256 = oneShot
  ? (data: Uint8Array): string => oneShotText.hash!('sha256', data, 'binary')
  : (data: Uint8Array): string => createHash('sha256').update(data).digest('binary');
/** SHA-256 as lowercase hex. */
export const hexSha256 = oneShot
  ? (data: Uint8Array): string => oneShotText.hash!('sha256', data, 'hex')
  : (data: Uint8Array): string => createHash('sha256').update(data).digest('hex');
const sha256 = oneShot ? (data: Uint8Array): Buffer => oneShot('sha256', data, 'buffer') : (data: Uint8Array): Buffer => createHash('sha256').update(data).digest();

/** SHA-256(0x00 ‖ entry): the hash of one log entry. */
export function leafHash(entry: Uint8Array): Buffer {
  const n = entry.length + 1;
  if (n > scratch.length) {
    // Rare (entries are small): hash in two parts rather than keep a large buffer.
    if (n > 65_536) return createHash('sha256').update(LEAF_PREFIX).update(entry).digest();
    scratch = Buffer.allocUnsafe(65_536);
    nodeView = scratch.subarray(0, 1 + 2 * HASH_SIZE);
  }
  scratch[0] = 0x00;
  scratch.set(entry, 1);
  return sha256(scratch.subarray(0, n));
}
/** SHA-256(0x01 ‖ left ‖ right): an interior node. Both are 32-byte hashes. */
export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE) {
    throw new RangeError(`nodeHash: children must be ${HASH_SIZE}-byte hashes (got ${left.length} and ${right.length} bytes)`);
  }
  scratch[0] = 0x01;
  scratch.set(left, 1);
  scratch.set(right, 1 + HASH_SIZE);
  return sha256(scratch.subarray(0, 1 + 2 * HASH_SIZE));
}

/** Node's Buffer writes one encoding without the dispatch of Buffer.write (present in every Node this runs on). */
type Latin1Buffer = Buffer & { latin1Write(s: string, offset: number, length: number): number };

/** nodeHash over 32-character latin1 strings (one char per byte), its result one too. */
export function nodeHashLatin1(left: string, right: string): string {
  const s = scratch as Latin1Buffer;
  s[0] = 0x01;
  s.latin1Write(left, 1, HASH_SIZE);
  s.latin1Write(right, 1 + HASH_SIZE, HASH_SIZE);
  return latin1Sha256(nodeView);
}

/** True when `h` is a Uint8Array of exactly 32 bytes (what every tree hash must be). */
export function isHash(h: unknown): h is Buffer {
  return h instanceof Uint8Array && h.length === HASH_SIZE;
}

/** Equality of two byte strings of any length (false for non-bytes). */
export function sameBytes(a: unknown, b: unknown): boolean {
  return a instanceof Uint8Array && b instanceof Uint8Array && Buffer.compare(a, b) === 0;
}
