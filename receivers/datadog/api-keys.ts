/**
 * The `api_keys` allowlist as a server authenticator (core/auth.ts), so a
 * refusal is answered, counted and raised as a security event like any
 * other receiver's: the Agent's `DD-API-KEY` header must be one of the
 * configured keys, and the sender becomes that key's *name*. Keys are
 * compared as SHA-256 digests in constant time.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { AuthFailure, type AuthSuccess, type Credentials, type ServerAuthenticator } from '../../core/auth.ts';
import type { DatadogApiKey } from './config.ts';

export const API_KEY_HEADER = 'dd-api-key';

const digest = (s: string) => createHash('sha256').update(s).digest();

export function apiKeyAuthenticator(keys: readonly DatadogApiKey[]): ServerAuthenticator {
  const known = keys.map((k) => ({ name: k.name, digest: digest(k.api_key) }));
  return {
    credentialHeader: API_KEY_HEADER,
    challenge: 'DD-API-KEY',
    authenticate(creds: Credentials): AuthSuccess {
      const v = creds.get(API_KEY_HEADER);
      if (v.length === 0 || !v[0]) throw new AuthFailure('missing', 'no DD-API-KEY header');
      if (v.length > 1) throw new AuthFailure('malformed', 'more than one DD-API-KEY header');
      const d = digest(v[0]);
      let name: string | undefined;
      for (const k of known) if (timingSafeEqual(k.digest, d) && name === undefined) name = k.name;
      if (name === undefined) throw new AuthFailure('invalid', 'DD-API-KEY is not one of the configured api_keys');
      return { subject: name };
    },
  };
}
