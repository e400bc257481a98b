/**
 * The Collector's server `auth` setting (`auth: {authenticator: <extension id>}`)
 * for every HTTP and gRPC server of a receiver, and the fail-closed rule
 * beside it: a server bound to anything but loopback without `auth` is
 * refused unless its config says `insecure: true`, so nobody exposes an
 * unauthenticated write path to the audit store by forgetting a key.
 */
import { s, type ConfigError, type Schema } from './config/schema.ts';
import { parseEndpoint } from './net.ts';

export interface ServerAuthConfig {
  /** The id of an authenticator extension (bearertokenauth, basicauth), enabled in service.extensions. */
  authenticator: string;
}

export interface ServerAuthSettings {
  /** null = senders are not authenticated. */
  auth: ServerAuthConfig | null;
  /** Accept unauthenticated senders on a non-loopback endpoint, on purpose. Default false. */
  insecure: boolean;
}

/** Schema fields to spread into a server's schema, beside `endpoint`. */
export const serverAuthSchemaFields: Record<string, Schema> = {
  auth: s.section(s.object({ authenticator: s.string() }), () => ({ authenticator: '' })),
  insecure: s.bool(),
};

export const serverAuthDefaults = (): ServerAuthSettings => ({ auth: null, insecure: false });

/** True for 127.0.0.0/8, ::1 (also IPv4-mapped) and `localhost`; anything else (a name, 0.0.0.0, '') is not. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase().replace(/^\[|\]$/g, '');
  if (h === 'localhost' || h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.replace(/^::ffff:/, '');
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(v4);
  return m !== null && m[1] === '127' && m.slice(1).every((p) => Number(p) <= 255);
}

/**
 * `auth` names an authenticator; a server on a non-loopback endpoint has
 * `auth` or an explicit `insecure: true`. `path` is the server's config path
 * (`protocols.grpc`, or '' for a receiver with one server).
 */
export function validateServerAuth(c: ServerAuthSettings & { endpoint: string }, path: string): ConfigError[] {
  const at = (k: string) => (path ? `${path}.${k}` : k);
  if (c.auth) {
    if (!c.auth.authenticator) return [{ path: at('auth.authenticator'), message: 'required: the id of an authenticator extension (bearertokenauth or basicauth) listed in service.extensions' }];
    return [];
  }
  if (c.insecure) return [];
  const { host } = parseEndpoint(c.endpoint);
  if (isLoopbackHost(host)) return [];
  return [
    {
      path: at('endpoint'),
      message:
        `${c.endpoint} is not a loopback address and no auth is configured, so anyone who can reach it could write to the audit store: ` +
        'set auth: {authenticator: <extension id>} (bearertokenauth or basicauth), or insecure: true beside endpoint to accept unauthenticated senders on purpose',
    },
  ];
}

/** UDP cannot carry credentials: a non-loopback UDP endpoint needs `insecure: true`. */
export function validateUdpExposure(c: { endpoint: string; insecure: boolean }, path: string): ConfigError[] {
  if (c.insecure || isLoopbackHost(parseEndpoint(c.endpoint).host)) return [];
  return [
    {
      path: `${path}.endpoint`,
      message: `${c.endpoint} is not a loopback address, and UDP senders cannot authenticate (no headers), so anyone who can reach it could write to the audit store: bind it to loopback (e.g. a node-local agent), or set insecure: true beside endpoint to accept that`,
    },
  ];
}
