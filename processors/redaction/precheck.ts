/**
 * The bytes fast path's test: can this OTLP protobuf payload hold anything
 * the built-in detectors (detect.ts) or pseudonymisation would change? Most
 * payloads cannot, and pass on as the bytes they are, never decoded.
 *
 * Every string of an OTLP message (keys, values, bodies, names, status
 * messages, bytes values) lies on the wire as its own UTF-8 bytes, so a
 * trigger word in any of them is a trigger word in the payload's bytes
 * (read as latin1: one char per byte, ASCII unchanged, multi-byte UTF-8
 * never forms an ASCII letter). One case-insensitive regex pass finds
 * them; its false positives (a trigger word in an innocent value, or in the
 * random bytes of an id) only cost a decode. Int and double values are
 * binary on the wire: their card check reads the few AnyValue encodings
 * that can hold a 13-19 digit integer.
 */
import { SECRET_KEY_WORDS, isCardInteger } from './detect.ts';

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\-]/g, '\\$&');

export interface PrecheckOptions {
  credentials: boolean;
  cards: boolean;
  /** Attribute keys that are pseudonymised (exact, as written in the config). */
  pseudonymKeys: readonly string[];
  emails: boolean;
}

/** The union of the detectors' triggers, as one regex over latin1 text (also used per string, see Redactor). */
export function triggerPattern(o: PrecheckOptions): RegExp | null {
  const alts: string[] = [];
  if (o.credentials) {
    alts.push(...SECRET_KEY_WORDS.map(escape)); // key rules and name=value
    alts.push('bearer', 'basic', 'negotiate'); // auth schemes (token, apikey: words above)
    alts.push('eyJ'); // JWT
    // userinfo password; not \s, which would also stop at 0xa0, a byte of UTF-8 letters (à = c3 a0)
    alts.push(String.raw`:\/\/[^\/@\t-\r ]*:[^\/@\t-\r ]+@`);
    alts.push('-----BEGIN'); // PEM private keys
  }
  if (o.cards) alts.push(String.raw`[0-9](?:[ -]?[0-9]){12}`);
  if (o.pseudonymKeys.length) alts.push(...o.pseudonymKeys.map(escape));
  if (o.emails) alts.push(String.raw`[A-Za-z0-9._%+-]@[A-Za-z0-9-]+\.[A-Za-z]`);
  return alts.length ? new RegExp(alts.join('|'), 'i') : null;
}

/**
 * AnyValue{int_value} (tag 0x18) or AnyValue{double_value} (tag 0x21) right
 * after the length of the AnyValue (in a KeyValue, tag 0x12; in an
 * ArrayValue, tag 0x0a), long enough to be a 13-19 digit integer.
 */
const NUMERIC = /[\n\x12](?:[\x07-\x0b]\x18[\x80-\xff]{5}|\x09\x21)/g;

function varint(b: Uint8Array, i: number): bigint | null {
  let v = 0n;
  for (let shift = 0n; i < b.length && shift < 70n; i++, shift += 7n) {
    v |= BigInt(b[i]! & 0x7f) << shift;
    if ((b[i]! & 0x80) === 0) return v;
  }
  return null;
}

function numericCard(b: Uint8Array, latin1: string): boolean {
  NUMERIC.lastIndex = 0;
  let m: RegExpExecArray | null;
  while ((m = NUMERIC.exec(latin1)) !== null) {
    const at = m.index + 2;
    NUMERIC.lastIndex = m.index + 1;
    if (b[at] === 0x18) {
      const v = varint(b, at + 1);
      if (v !== null && isCardInteger(BigInt.asIntN(64, v))) return true;
    } else if (at + 9 <= b.length) {
      const f = Buffer.from(b.buffer, b.byteOffset + at + 1, 8).readDoubleLE(0);
      if (isCardInteger(f)) return true;
    }
  }
  return false;
}

export class Precheck {
  private readonly trigger: RegExp | null;
  constructor(private readonly o: PrecheckOptions) {
    this.trigger = triggerPattern(o);
  }

  /** False only when nothing in `bytes` can be changed by the detectors. */
  mayHold(bytes: Uint8Array): boolean {
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const s = buf.toString('latin1');
    if (this.trigger?.test(s)) return true;
    return this.o.cards && numericCard(buf, s);
  }

  /** The same test over one decoded string (the Redactor's quick reject). */
  textMayHold(s: string): boolean {
    return this.trigger !== null && this.trigger.test(s);
  }
}
