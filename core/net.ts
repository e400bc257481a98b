/** Listening helpers shared by every server-side component. */
import { createServer, type IncomingMessage, type Server as HttpServer, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { Logger } from './telemetry/logger.ts';
import { httpsOptions, type TlsMaterial } from './tls.ts';
import { setRequestBudget } from './http-body.ts';
import { InflightBudget, receiveLimitDefaults, type ReceiveLimits } from './inflight.ts';

/** A receiver's HTTP server, plain or TLS. */
export type Server = HttpServer | HttpsServer;
import type { AddressInfo } from 'node:net';

export interface HostPort {
  host: string;
  port: number;
}

/** "127.0.0.1:4317", "[::1]:4317", ":4317" (all interfaces) → host and port. */
export function parseEndpoint(endpoint: string): HostPort {
  const i = endpoint.lastIndexOf(':');
  let host = endpoint.slice(0, i);
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);
  return { host: host || '0.0.0.0', port: Number(endpoint.slice(i + 1)) };
}

export function formatAddress(a: AddressInfo | string | null): string {
  if (!a || typeof a === 'string') return String(a);
  return a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
}

/** Listens on `endpoint`; resolves with the bound address (port 0 → the real port). */
export function listen(server: Server, endpoint: string): Promise<string> {
  const { host, port } = parseEndpoint(endpoint);
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => reject(new Error(`cannot listen on ${endpoint}: ${err.message}`, { cause: err }));
    server.once('error', onError);
    server.listen(port, host, () => {
      server.off('error', onError);
      resolve(formatAddress(server.address()));
    });
  });
}

/** Closes a server, ending idle keep-alive connections so close() does not hang. */
export function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    if (!server.listening) return resolve();
    server.close(() => resolve());
    server.closeIdleConnections?.();
    const t = setTimeout(() => server.closeAllConnections?.(), 2000);
    t.unref();
  });
}

/**
 * Starts the HTTP server of a receiver: `handle` serves each request, and an
 * unexpected failure in it is logged once and answered 500 rather than
 * crashing the process. `limits` (core/inflight.ts) bound its connections
 * and what its requests hold while their bodies arrive (readBody enforces
 * them). Resolves with the server and its bound address.
 */
export async function serveHttp(
  endpoint: string,
  handle: (req: IncomingMessage, res: ServerResponse) => Promise<void>,
  log: Logger,
  what: string,
  tls: TlsMaterial | null = null,
  limits: ReceiveLimits = receiveLimitDefaults(),
): Promise<{ server: Server; address: string }> {
  const budget = new InflightBudget(limits);
  const serve = (req: IncomingMessage, res: ServerResponse) => {
    setRequestBudget(req, budget);
    handle(req, res).catch((err: unknown) => {
      log.error(`unexpected error handling a ${what} request`, { error: err });
      if (!res.headersSent) res.writeHead(500).end();
    });
  };
  const server: Server = tls ? createHttpsServer(httpsOptions(tls), serve) : createServer(serve);
  // Longer than the usual 60s idle timeout of load balancers and SDK agents.
  server.keepAliveTimeout = 65_000;
  // Beyond this Node closes new connections at once (the client sees a reset and retries).
  if (limits.max_connections > 0) server.maxConnections = limits.max_connections;
  const address = await listen(server, endpoint);
  log.info(`${what} receiver listening`, { address, tls: tls ? (tls.ca ? 'mutual' : 'server') : 'off' });
  return { server, address };
}
