/**
 * The redaction processor's config: the Collector's `redaction` processor keys
 * and meanings, so a Collector pipeline.yaml section carries over.
 *
 * Patterns are Go (RE2) regular expressions, compiled by core/go-regexp.ts;
 * one that does not compile is a config error with its path.
 */
import { s, type ConfigError } from '../../core/config/schema.ts';
import { compilePattern } from '../../core/go-regexp.ts';
import { MIN_KEY_BYTES, defaultPseudonymizeConfig, pseudonymizeEnabled, type PseudonymizeConfig } from './pseudonym.ts';

export type HashFunction = 'none' | 'md5' | 'sha1' | 'sha3' | 'hmac-sha256' | 'hmac-sha512';
export const HASH_FUNCTIONS: readonly HashFunction[] = ['none', 'md5', 'sha1', 'sha3', 'hmac-sha256', 'hmac-sha512'];
export type Summary = 'debug' | 'info' | 'silent';

export interface RedactionConfig {
  /** Keep every attribute key (the allowed_keys list is off); blocked values are still masked. Default false. */
  allow_all_keys: boolean;
  /** Attribute keys kept; all others are removed (fails closed: empty = remove all) unless allow_all_keys. */
  allowed_keys: string[];
  /** Keys passed through untouched: neither removed nor masked. */
  ignored_keys: string[];
  /** Patterns of keys passed through untouched. */
  ignored_key_patterns: string[];
  /** Patterns of keys whose whole value is masked. */
  blocked_key_patterns: string[];
  /** Patterns masked wherever they occur in a kept value. */
  blocked_values: string[];
  /** A value matching one of these is left as is, even if it matches blocked_values or a blocked key. */
  allowed_values: string[];
  /** Also check values that are not strings (ints, doubles, bools, maps, arrays) by their AsString text. Default false. */
  redact_all_types: boolean;
  /** Replace a masked match by its hash (hex) instead of `****`. Default none. */
  hash_function: HashFunction;
  /** Key of the hmac-* hash functions. */
  hmac_key: string;
  /** Diagnostic attributes on what was changed: `debug` (keys and counts), `info` (counts), `silent` (none, the default). */
  summary: Summary;
  /**
   * trailhouse: mask credentials wherever they are (core/secrets.ts): values of
   * keys naming one (authorization, cookie, token, password, api key, …) and
   * bearer/basic credentials, secret query parameters, JWTs, URL passwords
   * and private keys in any text. Default false (a Collector config keeps
   * its meaning); the default pipeline.yaml turns it on.
   */
  mask_credentials: boolean;
  /** trailhouse: mask Luhn-valid payment card numbers (13-19 digits, spaces or dashes allowed). Default false. */
  mask_payment_cards: boolean;
  /** trailhouse: HMAC pseudonyms for personal identifiers (pseudonym.ts). Off unless keys or emails are set. */
  pseudonymize: PseudonymizeConfig;
}

export const defaultRedactionConfig = (): RedactionConfig => ({
  allow_all_keys: false,
  allowed_keys: [],
  ignored_keys: [],
  ignored_key_patterns: [],
  blocked_key_patterns: [],
  blocked_values: [],
  allowed_values: [],
  redact_all_types: false,
  hash_function: 'none',
  hmac_key: '',
  summary: 'silent',
  mask_credentials: false,
  mask_payment_cards: false,
  pseudonymize: defaultPseudonymizeConfig(),
});

export const redactionSchema = s.object({
  allow_all_keys: s.bool(),
  allowed_keys: s.list(s.string({ nonEmpty: true })),
  ignored_keys: s.list(s.string({ nonEmpty: true })),
  ignored_key_patterns: s.list(s.string({ nonEmpty: true })),
  blocked_key_patterns: s.list(s.string({ nonEmpty: true })),
  blocked_values: s.list(s.string({ nonEmpty: true })),
  allowed_values: s.list(s.string({ nonEmpty: true })),
  redact_all_types: s.bool(),
  hash_function: s.string({ enum: HASH_FUNCTIONS }),
  hmac_key: s.string(),
  summary: s.string({ enum: ['debug', 'info', 'silent'] }),
  mask_credentials: s.bool(),
  mask_payment_cards: s.bool(),
  pseudonymize: s.object({
    keys: s.list(s.string({ nonEmpty: true })),
    emails: s.bool(),
    hmac_key: s.string(),
    hmac_key_file: s.string(),
    prefix: s.string(),
  }),
});

/**
 * Whether this config lets the processor decide from a payload's bytes
 * (precheck.ts): only the built-in detectors and pseudonymisation change
 * anything. User patterns and an allowed_keys list need every record read.
 */
export const decidesFromBytes = (c: RedactionConfig): boolean =>
  c.allow_all_keys && c.blocked_key_patterns.length === 0 && c.blocked_values.length === 0;

const PATTERN_LISTS = ['ignored_key_patterns', 'blocked_key_patterns', 'blocked_values', 'allowed_values'] as const;

export function validateRedaction(c: RedactionConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  for (const list of PATTERN_LISTS) {
    c[list].forEach((p, i) => {
      try {
        compilePattern(p);
      } catch (err) {
        errors.push({ path: `${list}[${i}]`, message: `invalid regular expression ${JSON.stringify(p)}: ${(err as Error).message}` });
      }
    });
  }
  if (c.hash_function.startsWith('hmac-') && c.hmac_key === '') {
    errors.push({ path: 'hmac_key', message: `required with hash_function ${c.hash_function}` });
  }
  if (!c.hash_function.startsWith('hmac-') && c.hmac_key !== '') {
    errors.push({ path: 'hmac_key', message: `only used with hash_function hmac-sha256 or hmac-sha512` });
  }
  const p = c.pseudonymize;
  if (pseudonymizeEnabled(p)) {
    if ((p.hmac_key === '') === (p.hmac_key_file === '')) {
      errors.push({ path: 'pseudonymize', message: 'exactly one of hmac_key and hmac_key_file is required with keys or emails' });
    } else if (p.hmac_key !== '' && Buffer.byteLength(p.hmac_key) < MIN_KEY_BYTES) {
      // Only the length is reported: the key itself never goes into a message.
      errors.push({ path: 'pseudonymize.hmac_key', message: `at least ${MIN_KEY_BYTES} bytes are required (got ${Buffer.byteLength(p.hmac_key)})` });
    }
  }
  return errors;
}
