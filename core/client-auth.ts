/**
 * Client-side authenticators (the Collector's `auth: {authenticator: …}` on
 * an exporter's client settings): an extension that gives the headers (or
 * gRPC metadata) every outgoing request carries. Asked per request, so an
 * extension that reloads its credential (a token file) is followed.
 */
import type { Host } from './component.ts';

export interface ClientAuthenticator {
  /** Header name (lower case) → value, for the next request. */
  clientHeaders(): Record<string, string>;
}

export function isClientAuthenticator(c: unknown): c is ClientAuthenticator {
  return typeof (c as ClientAuthenticator | undefined)?.clientHeaders === 'function';
}

/** The started extension `id` as a client authenticator; throws with the config path when it is not one. */
export function resolveClientAuthenticator(host: Host, id: string, path: string): ClientAuthenticator {
  const ext = host.getExtension(id);
  if (!ext) throw new Error(`${path}: extension "${id}" is not started (list it under service.extensions)`);
  if (!isClientAuthenticator(ext)) throw new Error(`${path}: extension "${id}" cannot authenticate a client (bearertokenauth can)`);
  return ext;
}
