/**
 * The `console` extension's config: where the console listens, the store it
 * reads (its users and roles are the store's query_users), the alerts
 * extension whose triage it serves, TLS, and the session bounds.
 */
import { s, type ConfigError } from '../../core/config/schema.ts';
import { tlsServerSchema, validateTlsServer, type TlsServerConfig } from '../../core/tls.ts';

export interface ConsoleConfig {
  /** host:port. Default 127.0.0.1:16686. */
  endpoint: string;
  /** The clickhouse_store extension read (and whose query_users log in). Default clickhouse_store. */
  store: string;
  /** The alerts extension whose triage the Alerts page serves; null = read-only alerts page. Default alerts. */
  alerts: string | null;
  /** HTTPS (session cookies are then Secure). Default off. */
  tls: TlsServerConfig | null;
  /** Serve without users on a non-loopback address (refused otherwise). Default false. */
  insecure: boolean;
  /** A session ends this long after its login (ms). Default 8h. */
  session_lifetime: number;
  /** … or this long after its last request (ms). Default 30m. */
  session_idle: number;
  /** Sessions held at most (the oldest goes). Default 10000. */
  max_sessions: number;
}

export const defaultConsoleConfig = (): ConsoleConfig => ({
  endpoint: '127.0.0.1:16686',
  store: 'clickhouse_store',
  alerts: 'alerts',
  tls: null,
  insecure: false,
  session_lifetime: 8 * 3_600_000,
  session_idle: 30 * 60_000,
  max_sessions: 10_000,
});

export const consoleSchema = s.object({
  endpoint: s.endpoint(),
  store: s.string({ nonEmpty: true }),
  alerts: s.optional(s.string({ nonEmpty: true })),
  tls: tlsServerSchema,
  insecure: s.bool(),
  session_lifetime: s.duration(),
  session_idle: s.duration(),
  max_sessions: s.int({ min: 1 }),
});

export function validateConsole(c: ConsoleConfig): ConfigError[] {
  const errors = validateTlsServer(c.tls, 'tls');
  if (c.session_lifetime < 60_000 || c.session_lifetime > 7 * 86_400_000) errors.push({ path: 'session_lifetime', message: 'must be between 1m and 7d' });
  if (c.session_idle < 60_000 || c.session_idle > c.session_lifetime) errors.push({ path: 'session_idle', message: 'must be at least 1m and at most session_lifetime' });
  return errors;
}
