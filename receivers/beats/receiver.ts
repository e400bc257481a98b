/**
 * The beats receiver: a Lumberjack (v2, and v1 data frames) listener for
 * Filebeat's and Logstash's `logstash` outputs, plain TCP or TLS. With
 * `tls.client_ca_file` senders authenticate with a client certificate; the
 * certificate's URI SAN (a SPIFFE id) or else its CN is the sender
 * (`auth.subject`) in the payload's client info. See connection.ts for the
 * ACK and backpressure rules.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import { NO_METADATA, peerIp, type ClientInfo } from '../../core/client.ts';
import type { Component, CreateSettings, Host, NextConsumers } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { formatAddress, parseEndpoint } from '../../core/net.ts';
import { observedConsumer, type ObsConsumer } from '../../core/receiver-helper.ts';
import { httpsOptions, loadTls } from '../../core/tls.ts';
import type { BeatsReceiverConfig } from './config.ts';
import { BeatsConnection, type ConnectionDeps } from './connection.ts';

export class BeatsReceiver implements Component {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly consumer: ObsConsumer;
  private readonly deps: Omit<ConnectionDeps, 'client'>;
  address = '';

  constructor(private readonly settings: CreateSettings<BeatsReceiverConfig>, next: NextConsumers) {
    // Batches are bounded by max_batch_records here, so the request bound does not apply.
    this.consumer = observedConsumer(settings, next, 'tcp', 0);
    const m = settings.metrics;
    this.deps = {
      cfg: settings.config,
      consumer: this.consumer,
      log: settings.logger,
      protocolErrors: m.counter('trailhouse_beats_receiver_protocol_errors', 'Lumberjack connections closed for a protocol error (bad frame, oversize, bad window).', { receiver: settings.id }),
      undecodable: m.counter('trailhouse_beats_receiver_undecodable_events', 'JSON frames that were not a JSON object (kept as text with beats.decode_error).', { receiver: settings.id }),
    };
  }

  async start(_host?: Host): Promise<void> {
    const cfg = this.settings.config;
    const tls = cfg.tls ? await loadTls(cfg.tls, 'tls') : null;
    const server = tls
      ? createTlsServer(httpsOptions(tls)).on('secureConnection', (s: TLSSocket) => this.accept(s, certSubject(s)))
      : createServer((s) => this.accept(s, undefined));
    if (cfg.max_connections > 0) server.maxConnections = cfg.max_connections;
    // A failed TLS handshake is the sender's problem, not the receiver's.
    server.on('tlsClientError', () => {});
    this.address = await listenTcp(server, cfg.endpoint);
    this.server = server;
    this.settings.logger.info('Beats (Lumberjack) receiver listening', { address: this.address, tls: tls ? (tls.ca ? 'mutual' : 'server') : 'off' });
  }

  private accept(s: Socket, subject: string | undefined): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.setNoDelay(true);
    const client: ClientInfo = subject
      ? { address: peerIp(s.remoteAddress), metadata: NO_METADATA, auth: { subject, authenticator: 'tls', attributes: new Map() } }
      : { address: peerIp(s.remoteAddress), metadata: NO_METADATA };
    new BeatsConnection(s, { ...this.deps, client });
  }

  readonly shutdown = once(async () => {
    const s = this.server;
    this.server = undefined;
    if (!s) return;
    const closed = new Promise<void>((r) => s.close(() => r()));
    // Whatever a connection had not ACKed, its sender sends again.
    for (const sock of this.sockets) sock.destroy();
    await closed;
  });
}

/** Listens on `endpoint` (port 0 → a free one); resolves with the bound address. */
function listenTcp(server: Server, endpoint: string): Promise<string> {
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

/** The verified client certificate's URI SAN (SPIFFE id) or CN; undefined without one. */
function certSubject(s: TLSSocket): string | undefined {
  if (!s.authorized) return undefined;
  const c = s.getPeerCertificate();
  if (!c || !c.subject) return undefined;
  const uri = /(?:^|, )URI:([^,]+)/.exec(c.subjectaltname ?? '');
  if (uri) return uri[1];
  const cn = c.subject.CN;
  return Array.isArray(cn) ? cn[0] : cn || undefined;
}
