/**
 * The fluentforward receiver's config: the Collector's `endpoint` (TCP
 * host:port or `unix:///path`), plus what the Collector lacks and Fluentd's
 * in_forward has: `tls`, the `security` section (shared key handshake, user
 * auth) and `chunk_size_limit`.
 */
import { s, type ConfigError } from '../../core/config/schema.ts';
import { isLoopbackHost } from '../../core/auth-config.ts';
import { parseEndpoint } from '../../core/net.ts';
import { tlsServerSchema, validateTlsServer, type TlsServerConfig } from '../../core/tls.ts';

export interface ForwardUser {
  username: string;
  password: string;
}

export interface ForwardSecurity {
  /** Our name in HELO/PONG; senders check it in the PONG digest. */
  self_hostname: string;
  /** The key both sides know; never sent, only digests of it. */
  shared_key: string;
  /** Require a username and password from `users` too. */
  user_auth: boolean;
  users: ForwardUser[];
}

export interface FluentForwardConfig {
  /** `host:port` (TCP, and UDP heartbeats on the same port) or `unix:///path/to.sock`. */
  endpoint: string;
  tls: TlsServerConfig | null;
  security: ForwardSecurity | null;
  /** Largest message on the wire, and largest PackedForward stream once decompressed. */
  chunk_size_limit: number;
  /** A `log`/`message` that is a JSON object also gives its fields as attributes (lib/mesh/json-line.ts). */
  parse_json_body: boolean;
  /** Answer Fluentd's UDP heartbeats on the TCP port (not for unix sockets). */
  heartbeat: boolean;
  /** Accept unauthenticated senders on a non-loopback endpoint, on purpose. */
  insecure: boolean;
  /** Close a connection whose message (or handshake) stops arriving for this long (ms); 0 = never. */
  body_idle_timeout: number;
  max_connections: number;
  /** Records in one message; a larger one is refused (not acked). 0 = no limit. */
  max_records_per_request: number;
}

const MiB = 1024 * 1024;

export const defaultFluentForwardConfig = (): FluentForwardConfig => ({
  endpoint: '127.0.0.1:8006',
  tls: null,
  security: null,
  chunk_size_limit: 16 * MiB,
  parse_json_body: true,
  heartbeat: true,
  insecure: false,
  body_idle_timeout: 30_000,
  max_connections: 4096,
  max_records_per_request: 100_000,
});

export const fluentForwardSchema = s.object({
  endpoint: s.string({ nonEmpty: true }),
  tls: tlsServerSchema,
  security: s.section(
    s.object({
      self_hostname: s.string({ nonEmpty: true }),
      shared_key: s.string({ nonEmpty: true }),
      user_auth: s.bool(),
      users: s.list(s.object({ username: s.string({ nonEmpty: true }), password: s.string({ nonEmpty: true }) })),
    }),
    (): ForwardSecurity => ({ self_hostname: '', shared_key: '', user_auth: false, users: [] }),
  ),
  chunk_size_limit: s.bytes(),
  parse_json_body: s.bool(),
  heartbeat: s.bool(),
  insecure: s.bool(),
  body_idle_timeout: s.duration(),
  max_connections: s.int({ min: 0 }),
  max_records_per_request: s.int({ min: 0 }),
});

export const UNIX_PREFIX = 'unix://';

export function unixPath(endpoint: string): string | undefined {
  return endpoint.startsWith(UNIX_PREFIX) ? endpoint.slice(UNIX_PREFIX.length) : undefined;
}

export function validateFluentForward(c: FluentForwardConfig): ConfigError[] {
  const errors = validateTlsServer(c.tls, 'tls');
  const sock = unixPath(c.endpoint);
  if (sock !== undefined) {
    if (!sock.startsWith('/')) errors.push({ path: 'endpoint', message: `unix socket path must be absolute (unix:///run/fluent.sock), got ${JSON.stringify(sock)}` });
  } else {
    const { host, port } = parseEndpoint(c.endpoint);
    if (!c.endpoint.includes(':') || !Number.isInteger(port) || port < 0 || port > 65535) {
      errors.push({ path: 'endpoint', message: `expected host:port or unix:///path, got ${JSON.stringify(c.endpoint)}` });
    } else if (!c.security && !c.tls?.client_ca_file && !c.insecure && !isLoopbackHost(host)) {
      errors.push({
        path: 'endpoint',
        message:
          `${c.endpoint} is not a loopback address and senders are not authenticated, so anyone who can reach it could write to the audit store: ` +
          'set security: {self_hostname, shared_key} (the forward handshake), tls.client_ca_file (client certificates), or insecure: true to accept that on purpose',
      });
    }
  }
  if (c.security) {
    if (!c.security.self_hostname) errors.push({ path: 'security.self_hostname', message: 'required when security is set' });
    if (!c.security.shared_key) errors.push({ path: 'security.shared_key', message: 'required when security is set' });
    if (c.security.user_auth && c.security.users.length === 0) errors.push({ path: 'security.users', message: 'user_auth needs at least one {username, password}' });
  }
  if (c.chunk_size_limit <= 0) errors.push({ path: 'chunk_size_limit', message: 'must be greater than 0' });
  return errors;
}
