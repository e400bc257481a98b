/**
 * The query interface's listening server: plain HTTP, or HTTPS with the
 * receivers' TLS keys (`query_tls`), and the fail-closed rule.
 *
 * Fail closed: without users, a non-loopback address would serve every table
 * to anyone who reaches it; that is refused unless `insecure` says so.
 *
 * With a client CA the certificate is checked here (at secureConnection)
 * rather than by Node, which would drop the connection silently: a refused
 * certificate is a refused login, counted, throttled and audited.
 */
import http from 'node:http';
import https from 'node:https';
import type tls from 'node:tls';
import { httpsOptions, loadTls, type TlsServerConfig } from '../../../core/tls.ts';
import { isLoopbackHost } from '../../../core/auth-config.ts';
import type { QueryAuthenticator } from './query-auth.ts';

export interface ListenerOptions {
  endpoint: string;
  host: string;
  tls?: TlsServerConfig | null;
  insecure?: boolean;
}

/** clientCerts: null = plain HTTP, false = HTTPS, true = HTTPS with client certificates required. */
export async function createListener(
  o: ListenerOptions,
  auth: QueryAuthenticator,
  handler: http.RequestListener,
): Promise<{ server: http.Server; clientCerts: boolean | null }> {
  if (!auth.required && !isLoopbackHost(o.host) && !o.insecure) {
    throw new Error(
      `query_endpoint ${o.endpoint}: refusing to serve the store without authentication on a non-loopback address ` +
        '(anyone who reaches it could read every audit event): configure query_users (hashes from `trailhouse hash-password`), ' +
        'bind query_endpoint to 127.0.0.1, or set query_insecure: true on the clickhouse exporter to accept that',
    );
  }
  if (!o.tls) return { server: http.createServer(handler), clientCerts: null };
  const m = await loadTls(o.tls, 'query_tls');
  const server = https.createServer({ ...httpsOptions(m), ...(m.ca ? { rejectUnauthorized: false } : {}) }, handler);
  if (m.ca) {
    server.prependListener('secureConnection', (socket: tls.TLSSocket) => {
      if (socket.authorized) return;
      auth.refuseHandshake(socket.remoteAddress ?? '', `client certificate refused (${String(socket.authorizationError ?? 'none presented')})`);
      socket.destroy();
    });
  }
  return { server, clientCerts: m.ca !== null };
}
