/**
 * The built-in detectors and pseudonymisation applied to decoded values:
 * a key naming a credential masks its whole value; a pseudonymised key
 * turns its value into a pseudonym; every string inside a value (nested
 * maps and arrays, bytes that are UTF-8) is searched for credentials, card
 * numbers and e-mail addresses; an int that is a card number is masked. A value is returned as the same object when nothing changed.
 *
 * Each string first goes through the pre-check's trigger regex
 * (precheck.ts), so an innocent string costs one regex test.
 */
import { isUtf8 } from 'node:buffer';
import { KvList, type AnyValue } from '../../core/model.ts';
import { isCardInteger, isSecretKey, maskCards, maskCredentials, type Masker } from '../../core/secrets.ts';
import { Precheck } from './precheck.ts';
import type { Pseudonymizer } from './pseudonym.ts';

export interface BuiltinOptions {
  credentials: boolean;
  cards: boolean;
  pseudonymKeys: readonly string[];
  emails: boolean;
}

export class Builtins implements Masker {
  /** Masks made (read and reset by the Redactor). */
  count = 0;
  readonly precheck: Precheck;
  private readonly pseudoKeys: Set<string>;
  readonly active: boolean;

  constructor(
    private readonly o: BuiltinOptions,
    readonly mask: (secret: string) => string,
    private readonly pseudo: Pseudonymizer | null,
  ) {
    this.precheck = new Precheck(o);
    this.pseudoKeys = new Set(o.pseudonymKeys);
    this.active = o.credentials || o.cards || (pseudo !== null && (o.pseudonymKeys.length > 0 || o.emails));
  }

  /** Whether a key's whole value is masked. */
  secretKey(key: string): boolean {
    return this.o.credentials && isSecretKey(key);
  }

  pseudonymKey(key: string): boolean {
    return this.pseudo !== null && this.pseudoKeys.has(key);
  }

  /** One text with its credentials and card numbers masked, e-mail addresses pseudonymised. */
  text(s: string): string {
    if (!this.precheck.textMayHold(s)) return s;
    let out = s;
    if (this.o.credentials) out = maskCredentials(out, this);
    if (this.o.cards) out = maskCards(out, this);
    if (this.o.emails && this.pseudo) out = this.pseudo.emails(out);
    return out;
  }

  /** A value under `key` (null inside an array), changed as the rules say. */
  value(key: string | null, v: AnyValue): AnyValue {
    if (key !== null) {
      if (this.secretKey(key) && masksWhole(v)) {
        this.count++;
        return this.mask(typeof v === 'string' ? v : '');
      }
      if (this.pseudonymKey(key) && (typeof v === 'string' || typeof v === 'bigint' || typeof v === 'number')) {
        return this.pseudo!.value(String(v));
      }
    }
    if (typeof v === 'string') return this.text(v);
    // Ints only: a double is 8 bytes on the wire that the pre-check cannot
    // tell from a timestamp, and card numbers are not sent as doubles.
    if (typeof v === 'bigint') {
      if (this.o.cards && isCardInteger(v)) {
        this.count++;
        return this.mask(String(v));
      }
      return v;
    }
    if (v instanceof Uint8Array) {
      if (!isUtf8(v)) return v; // binary: no text to search
      const s = Buffer.from(v.buffer, v.byteOffset, v.byteLength).toString('utf8');
      const out = this.text(s);
      return out === s ? v : new Uint8Array(Buffer.from(out, 'utf8'));
    }
    if (v instanceof KvList) {
      for (const kv of v.values) kv.value = this.value(kv.key, kv.value);
      return v;
    }
    if (Array.isArray(v)) {
      for (let i = 0; i < v.length; i++) v[i] = this.value(null, v[i]!);
      return v;
    }
    return v;
  }
}

/** A secret key's value is masked whole unless it is a number or a bool (a count of tokens is no token). */
export function masksWhole(v: AnyValue): boolean {
  return v !== null && v !== undefined && typeof v !== 'bigint' && typeof v !== 'number' && typeof v !== 'boolean';
}
