/**
 * The bytes fast path's test: can this OTLP protobuf payload hold anything
 * the built-in detectors (core/secrets.ts) or pseudonymisation would change? Most
 * payloads cannot, and pass on as the bytes they are, never decoded.
 *
 * Every string of an OTLP message (keys, values, bodies, names, status
 * messages, bytes values) lies on the wire as its own UTF-8 bytes, so a
 * trigger word in any of them is a trigger word in the payload's bytes
 * (read as latin1: one char per byte, ASCII unchanged, multi-byte UTF-8
 * never forms an ASCII letter). One case-insensitive regex pass finds
 * them; its false positives (a trigger word in an innocent value, or in the
 * random bytes of an id) only cost a decode. Int and double values are
 * binary on the wire: their card check reads the AnyValue encodings that
 * can hold a 13-19 digit integer (doubles are not checked, see core/secrets.ts).
 */
import { SECRET_KEY_WORDS, isCardInteger } from '../../core/secrets.ts';
import { AnyValueTag, ArrayValueTag, KeyValueTag } from '../../core/otlp/wire-fields.gen.ts';

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
    alts.push('bearer', 'basic', 'negotiate'); // auth schemes (token, apikey: words above); JWTs: jwt() below
    // userinfo password; not \s, which would also stop at 0xa0, a byte of UTF-8 letters
    // (à = c3 a0); no ':' in the user part, so `://a:a:a:…` is one linear pass, not n².
    alts.push(String.raw`:\/\/[^\/@\t-\r :]*:[^\/@\t-\r ]+@`);
    alts.push('-----BEGIN'); // PEM private keys
  }
  if (o.cards) alts.push(String.raw`[0-9](?:[ -]?[0-9]){12}`);
  if (o.emails) alts.push(String.raw`[A-Za-z0-9._%+-]@[A-Za-z0-9-]+\.[A-Za-z]`);
  return alts.length ? new RegExp(alts.join('|'), 'i') : null;
}

/**
 * AnyValue{int_value} (its tag, 0x18) right after the length of the AnyValue
 * (KeyValue.value or ArrayValue.values), long enough (6-10 bytes) to be a
 * 13-19 digit integer, and that integer a card number. Found with native
 * indexOf: 0x18 is rare in text, a few times per record in OTLP (each int
 * attribute's tag).
 */
function intCard(b: Buffer): boolean {
  for (let at = b.indexOf(AnyValueTag.int_value, 2); at >= 0; at = b.indexOf(AnyValueTag.int_value, at + 1)) {
    const len = b[at - 1]!;
    if (len < 7 || len > 11 || (b[at - 2] !== KeyValueTag.value && b[at - 2] !== ArrayValueTag.values)) continue;
    let v = 0n;
    let i = at + 1;
    for (let shift = 0n; i < b.length && i <= at + 10; i++, shift += 7n) {
      v |= BigInt(b[i]! & 0x7f) << shift;
      if ((b[i]! & 0x80) === 0) break;
    }
    if (i - at === len - 1 && isCardInteger(BigInt.asIntN(64, v))) return true;
  }
  return false;
}

/**
 * A JWT starts `eyJ` (case-sensitive: the base64 of `{"`), then base64url
 * and a dot. Not in the case-insensitive regex, where three letters would
 * match random id bytes (`EyJ`) in ~1% of 1 000-record requests.
 */
const EYJ = Buffer.from('eyJ');
const JWT_TEXT = /eyJ[A-Za-z0-9_-]{2,}\./;
const B64URL = new Uint8Array(256);
for (const c of Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_')) B64URL[c] = 1;

function jwt(b: Buffer): boolean {
  for (let at = b.indexOf(EYJ); at >= 0; ) {
    let i = at + 3;
    while (i < b.length && B64URL[b[i]!] === 1) i++;
    if (i - at >= 5 && b[i] === 0x2e) return true;
    // Any later `eyJ` inside this run ends where it ends: search on from there (linear, not n²).
    at = b.indexOf(EYJ, Math.max(i, at + 1));
  }
  return false;
}

export class Precheck {
  private readonly trigger: RegExp | null;
  /** Pseudonymised keys match exactly: their UTF-8 bytes, found natively. */
  private readonly keys: Buffer[];
  constructor(private readonly o: PrecheckOptions) {
    this.trigger = triggerPattern(o);
    this.keys = o.pseudonymKeys.map((k) => Buffer.from(k, 'utf8'));
  }

  /** False only when nothing in `bytes` can be changed by the detectors. */
  mayHold(bytes: Uint8Array): boolean {
    const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const s = buf.toString('latin1');
    if (this.trigger?.test(s)) return true;
    if (this.o.credentials && jwt(buf)) return true;
    if (this.o.cards && intCard(buf)) return true;
    for (const k of this.keys) if (buf.indexOf(k) >= 0) return true;
    return false;
  }

  /** The same test over one decoded string (the Redactor's quick reject; keys are the Redactor's to check). */
  textMayHold(s: string): boolean {
    return (this.trigger !== null && this.trigger.test(s)) || (this.o.credentials && JWT_TEXT.test(s));
  }
}
