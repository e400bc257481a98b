/**
 * bearertokenauth's config: the Collector contrib extension's keys (`token`,
 * `tokens`, `filename`, `scheme`, `header`), plus a `{token, subject}` form
 * of a `tokens` entry that names who holds it (`auth.subject`).
 */
import { s, type ConfigError } from '../../core/config/schema.ts';

export interface TokenEntry {
  token: string;
  /** The authenticated subject for this token; '' = the extension id. */
  subject: string;
}

export interface BearerTokenAuthConfig {
  /** The header carrying the credential. Default `Authorization`. */
  header: string;
  /** The scheme before the token (`Bearer <token>`); '' = the header is the token alone. Default `Bearer`. */
  scheme: string;
  /** One accepted token. */
  token: string;
  /** Accepted tokens: strings, or `{token, subject}`. */
  tokens: unknown[];
  /** A file of accepted tokens, one a line, reloaded when it changes; when set, token and tokens are ignored (as in the Collector). */
  filename: string;
}

export const bearerTokenAuthSchema = s.object({
  header: s.string({ nonEmpty: true }),
  scheme: s.string(),
  token: s.string(),
  tokens: s.list(s.any()),
  filename: s.string(),
});

export const defaultBearerTokenAuthConfig = (): BearerTokenAuthConfig => ({ header: 'Authorization', scheme: 'Bearer', token: '', tokens: [], filename: '' });

/** The configured tokens as entries (not the file's), with every problem. */
export function tokenEntries(c: BearerTokenAuthConfig, errors: ConfigError[] = []): TokenEntry[] {
  const out: TokenEntry[] = [];
  if (c.token) out.push({ token: c.token, subject: '' });
  c.tokens.forEach((t, i) => {
    if (typeof t === 'string' && t !== '') out.push({ token: t, subject: '' });
    else if (t !== null && typeof t === 'object' && !Array.isArray(t)) {
      const o = t as Record<string, unknown>;
      const extra = Object.keys(o).filter((k) => k !== 'token' && k !== 'subject');
      if (typeof o.token !== 'string' || o.token === '') errors.push({ path: `tokens[${i}].token`, message: 'required: a non-empty string' });
      else if (o.subject !== undefined && typeof o.subject !== 'string') errors.push({ path: `tokens[${i}].subject`, message: 'expected a string' });
      else if (extra.length) errors.push({ path: `tokens[${i}]`, message: `unknown key ${JSON.stringify(extra[0])} (valid keys: token, subject)` });
      else out.push({ token: o.token, subject: (o.subject as string | undefined) ?? '' });
    } else errors.push({ path: `tokens[${i}]`, message: 'expected a non-empty token string or {token, subject}' });
  });
  return out;
}

export function validateBearerTokenAuth(c: BearerTokenAuthConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  const entries = tokenEntries(c, errors);
  if (c.token && c.tokens.length) errors.push({ path: 'tokens', message: 'either tokens or token should be provided, not both' });
  if (!c.filename && entries.length === 0 && errors.length === 0) errors.push({ path: '', message: 'no bearer token provided: set token, tokens or filename' });
  if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(c.header)) errors.push({ path: 'header', message: `not a valid header name: ${JSON.stringify(c.header)}` });
  if (c.scheme && !/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(c.scheme)) errors.push({ path: 'scheme', message: 'must be one token without spaces (e.g. Bearer), or empty' });
  return errors;
}
