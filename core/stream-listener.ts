/**
 * Listening for a stream protocol (forward, syslog over TCP): a TCP port or
 * a Unix socket, plain or TLS, with the shared bounds of a listener
 * (max_connections), and delivery that pushes back on the sender.
 *
 * Backpressure: a connection hands one batch at a time to the pipeline with
 * its socket paused; when the pipeline refuses (memory limit, full queue) or
 * fails for a while, the batch is retried after the Retry-After the refusal
 * names, still paused, so the sender's TCP window fills and it slows down.
 * Nothing is buffered beyond what one connection has read.
 */
import { createServer as createTcpServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { lstat, rm } from 'node:fs/promises';
import { isPermanent, RefusedError } from './errors.ts';
import { listen, type Server as HttpServer } from './net.ts';
import { peerIp, type ClientInfo } from './client.ts';
import type { LogRecord } from './model.ts';
import { Payload, type LogsPayload } from './payload.ts';
import type { Logger } from './telemetry/logger.ts';
import { httpsOptions, type TlsMaterial } from './tls.ts';

/** Messages a receiver dropped (or, syslog, kept unparsed) because they were malformed; label `reason`. */
export const MALFORMED_MESSAGES = 'trailhouse_receiver_malformed_messages';
export const MALFORMED_HELP = 'Messages a receiver could not read, by reason (dropped and not acknowledged; syslog keeps unparsed lines with the raw line as the body).';

/** Log records of one sender as a payload: one resource and scope, both empty (as the Collector's log receivers). */
export function logsPayload(records: LogRecord[], client: ClientInfo): LogsPayload {
  return Payload.logs(
    {
      resourceLogs: [
        {
          resource: { attributes: [], droppedAttributesCount: 0 },
          scopeLogs: [{ scope: { name: '', version: '', attributes: [], droppedAttributesCount: 0 }, logRecords: records, schemaUrl: '' }],
          schemaUrl: '',
        },
      ],
    },
    client,
  );
}

export interface StreamListener {
  server: Server;
  /** host:port bound, or the socket path. */
  address: string;
  close(): Promise<void>;
}

export interface StreamConnection {
  socket: Socket | TLSSocket;
  /** The peer's IP ('' on a Unix socket). */
  peer: string;
}

/**
 * Listens on `endpoint` (host:port) or `unixPath`; calls `onConnection` for
 * each connection (after the TLS handshake with TLS). A stale socket file
 * left by a killed process is removed before binding.
 */
export async function listenStream(
  opts: { endpoint: string; unixPath?: string; tls: TlsMaterial | null; maxConnections: number; what: string; log: Logger },
  onConnection: (c: StreamConnection) => void,
): Promise<StreamListener> {
  const sockets = new Set<Socket>();
  const accept = (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    // An error on one connection (reset, TLS alert) concerns that connection only.
    socket.on('error', () => socket.destroy());
    onConnection({ socket, peer: peerIp(socket.remoteAddress) });
  };
  const server: Server = opts.tls ? createTlsServer(httpsOptions(opts.tls), accept) : createTcpServer(accept);
  server.on('tlsClientError', (err: Error, s: Socket) => {
    opts.log.debug(`${opts.what}: TLS handshake failed`, { error: err.message, peer: s.remoteAddress });
  });
  if (opts.maxConnections > 0) server.maxConnections = opts.maxConnections;
  let address: string;
  if (opts.unixPath !== undefined) {
    await removeStaleSocket(opts.unixPath);
    await new Promise<void>((resolve, reject) => {
      server.once('error', (err) => reject(new Error(`cannot listen on unix://${opts.unixPath}: ${err.message}`, { cause: err })));
      server.listen(opts.unixPath, () => resolve());
    });
    address = `unix://${opts.unixPath}`;
  } else {
    address = await listen(server as unknown as HttpServer, opts.endpoint);
  }
  opts.log.info(`${opts.what} receiver listening`, { address, tls: opts.tls ? (opts.tls.ca ? 'mutual' : 'server') : 'off' });
  return {
    server,
    address,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        if (!server.listening) return resolve();
        server.close(() => resolve());
      }),
  };
}

/** Removes a socket file a killed process left; refuses to touch anything that is not a socket. */
async function removeStaleSocket(path: string): Promise<void> {
  const st = await lstat(path).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return undefined;
    throw err;
  });
  if (!st) return;
  if (!st.isSocket()) throw new Error(`cannot listen on unix://${path}: it exists and is not a socket`);
  await rm(path, { force: true });
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

/**
 * Hands `deliver()` to the pipeline until it is accepted, the failure is
 * permanent, or `open()` turns false (the sender went away: it was never
 * acknowledged, so it will send again). Resolves true when accepted; a
 * permanent failure is rethrown.
 */
export async function deliverWithBackpressure(deliver: () => Promise<void>, open: () => boolean, log: Logger, what: string): Promise<boolean> {
  let warned = false;
  for (;;) {
    try {
      await deliver();
      return true;
    } catch (err) {
      if (isPermanent(err)) throw err;
      if (!open()) return false;
      if (!warned) {
        warned = true;
        log.warn(`${what}: the pipeline refused a batch; holding the connection and retrying`, { error: (err as Error).message });
      }
      await sleep(err instanceof RefusedError ? err.retryAfterSeconds * 1000 : 1000);
      if (!open()) return false;
    }
  }
}
