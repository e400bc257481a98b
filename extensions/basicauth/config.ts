/**
 * basicauth's config: the Collector contrib extension's `htpasswd.file` and
 * `htpasswd.inline` (inline entries override the file's). Only bcrypt
 * entries are accepted (`htpasswd -B`): the other htpasswd kinds are refused
 * with the reason (see parseHtpasswd). `client_auth` (the exporter side) is
 * refused: no trailhouse exporter authenticates with it.
 */
import { s, type ConfigError } from '../../core/config/schema.ts';

export interface BasicAuthConfig {
  htpasswd: { file: string; inline: string } | null;
  client_auth: unknown;
}

export const basicAuthSchema = s.object({
  htpasswd: s.section(s.object({ file: s.string(), inline: s.string() }), () => ({ file: '', inline: '' })),
  client_auth: s.any(),
});

export const defaultBasicAuthConfig = (): BasicAuthConfig => ({ htpasswd: null, client_auth: undefined });

const BCRYPT = /^\$2[aby]?\$(0[4-9]|[12]\d|3[01])\$[./A-Za-z0-9]{53}$/;

/** Why a non-bcrypt hash is refused, by its prefix. */
function weakKind(hash: string): string {
  if (hash.startsWith('{SHA}')) return '{SHA} is one unsalted SHA-1 (cracked at billions of guesses per second)';
  if (hash.startsWith('$apr1$') || hash.startsWith('$1$')) return 'MD5-crypt ($apr1$/$1$) is fast to crack';
  if (hash.startsWith('$5$') || hash.startsWith('$6$')) return 'SHA-crypt ($5$/$6$) is not supported';
  if (hash.startsWith('$2')) return 'a malformed bcrypt hash';
  if (/^[./A-Za-z0-9]{13}$/.test(hash)) return 'DES crypt keeps 8 characters of the password and is fast to crack';
  return 'not a recognised hash (a plain-text password?)';
}

/**
 * `user:hash` lines (blank lines and `#` comments skipped) → user → bcrypt
 * hash. Later lines override earlier ones, as the Collector reads file then
 * inline. `where` names the source in errors.
 */
export function parseHtpasswd(text: string, where: string, into: Map<string, string>, errors: ConfigError[]): void {
  text.split('\n').forEach((raw, i) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const colon = line.indexOf(':');
    const at = { path: where, line: i + 1 };
    if (colon <= 0) {
      errors.push({ path: at.path, message: `line ${at.line}: expected user:hash` });
      return;
    }
    const user = line.slice(0, colon);
    const hash = line.slice(colon + 1);
    if (!BCRYPT.test(hash)) {
      errors.push({ path: at.path, message: `line ${at.line} (user ${JSON.stringify(user)}): only bcrypt hashes are accepted (create with htpasswd -B): ${weakKind(hash)}` });
      return;
    }
    into.set(user, hash);
  });
}

export function validateBasicAuth(c: BasicAuthConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  if (c.client_auth !== undefined) errors.push({ path: 'client_auth', message: 'not supported: no trailhouse exporter authenticates with basicauth; use htpasswd to authenticate senders' });
  if (!c.htpasswd || (!c.htpasswd.file && !c.htpasswd.inline)) {
    errors.push({ path: 'htpasswd', message: 'no credential source provided: set htpasswd.file or htpasswd.inline' });
    return errors;
  }
  if (c.htpasswd.inline) parseHtpasswd(c.htpasswd.inline, 'htpasswd.inline', new Map(), errors);
  return errors;
}
