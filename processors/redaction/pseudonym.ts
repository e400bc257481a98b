/**
 * Pseudonymisation of personal identifiers: a value becomes
 * `<prefix><hex>`, the first 96 bits of HMAC-SHA-256(key, value). The same
 * person gets the same pseudonym in every record (joins and counts still
 * work), nobody without the key can compute it from a guessed value (a plain
 * hash of an e-mail address is reversed by hashing a list of addresses), and
 * whoever holds the key can find a person's records by computing theirs
 * (`trailhouse pseudonym <value>`).
 *
 * E-mail addresses are lowercased first (`Bob@X.com` and `bob@x.com` are
 * one person), wherever they are found; other values are taken as they are.
 */
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';

/**
 * An e-mail address inside a text: one start per run of local-part
 * characters (the lookbehind) and labels split by dots (nothing to
 * backtrack over), so hostile input costs linear time; the top-level label
 * (letters, two or more) is checked on the match.
 */
export const EMAIL = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+/g;
const TLD = /\.[A-Za-z]{2,}$/;
const isEmail = (s: string): boolean => {
  EMAIL.lastIndex = 0;
  const m = EMAIL.exec(s);
  return m !== null && m.index === 0 && m[0].length === s.length && TLD.test(s);
};

/** Shortest key accepted: a short key would let a guessed-value search find it. */
export const MIN_KEY_BYTES = 16;

export interface PseudonymizeConfig {
  /** Attribute (and body map) keys whose whole value is pseudonymised, exact. */
  keys: string[];
  /** Also pseudonymise e-mail addresses found anywhere in a value. */
  emails: boolean;
  /** The HMAC key, inline (use `${env:…}`), or */
  hmac_key: string;
  /** a file holding it (trailing newline ignored), read when the processor starts. */
  hmac_key_file: string;
  /** Put before the hex digest, so pseudonyms are recognisable (and not pseudonymised twice). */
  prefix: string;
}

export const defaultPseudonymizeConfig = (): PseudonymizeConfig => ({ keys: [], emails: false, hmac_key: '', hmac_key_file: '', prefix: 'pii:' });

export const pseudonymizeEnabled = (c: PseudonymizeConfig): boolean => c.keys.length > 0 || c.emails;

/** The key the config names: inline, or read from its file. Throws with the reason. */
export function loadPseudonymKey(c: PseudonymizeConfig): Buffer {
  let key: Buffer;
  if (c.hmac_key_file) {
    try {
      key = readFileSync(c.hmac_key_file);
    } catch (err) {
      throw new Error(`pseudonymize.hmac_key_file: cannot read ${JSON.stringify(c.hmac_key_file)}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    }
    let end = key.length;
    while (end > 0 && (key[end - 1] === 0x0a || key[end - 1] === 0x0d)) end--;
    key = key.subarray(0, end);
  } else {
    key = Buffer.from(c.hmac_key, 'utf8');
  }
  // The key's bytes never go into a message: only its length.
  if (key.length < MIN_KEY_BYTES) throw new Error(`pseudonymize: the HMAC key has ${key.length} bytes; at least ${MIN_KEY_BYTES} are required`);
  return key;
}

export class Pseudonymizer {
  count = 0;
  constructor(
    private readonly key: Buffer,
    readonly prefix: string,
  ) {}

  /** The pseudonym of one identifier (an e-mail address lowercased). */
  of(value: string): string {
    const v = isEmail(value) ? value.toLowerCase() : value;
    return this.prefix + createHmac('sha256', this.key).update(v).digest('hex').slice(0, 24);
  }

  /** A value under a pseudonymised key; one already pseudonymised (a second stage) is kept. */
  value(v: string): string {
    if (v === '' || (this.prefix !== '' && v.startsWith(this.prefix))) return v;
    this.count++;
    return this.of(v);
  }

  /** Every e-mail address in a text pseudonymised, the text around kept. */
  emails(s: string): string {
    if (!s.includes('@')) return s;
    return s.replace(EMAIL, (e) => (TLD.test(e) ? (this.count++, this.of(e)) : e));
  }
}
