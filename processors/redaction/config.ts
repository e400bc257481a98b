/**
 * The redaction processor's config: the Collector's `redaction` processor keys
 * and meanings, so a Collector pipeline.yaml section carries over.
 *
 * Patterns are Go (RE2) regular expressions, compiled by core/go-regexp.ts;
 * one that does not compile is a config error with its path.
 */
import { s, type ConfigError } from '../../core/config/schema.ts';
import { compilePattern } from '../../core/go-regexp.ts';

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
});

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
  return errors;
}
