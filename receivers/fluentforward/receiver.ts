/**
 * The fluentforward receiver: Fluentd's forward protocol v1 on a TCP port
 * (optionally TLS) or a Unix socket, with the shared-key handshake when
 * `security` is set, and Fluentd's UDP heartbeat on the same port.
 * Connections are handled by connection.ts.
 */
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import type { Component, CreateSettings, Host, NextConsumers } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { isLoopbackHost } from '../../core/auth-config.ts';
import { parseEndpoint } from '../../core/net.ts';
import { observedConsumer, type ObsConsumer } from '../../core/receiver-helper.ts';
import { emitSecurityEvent, nowNanos } from '../../core/security-events.ts';
import { listenStream, MALFORMED_HELP, MALFORMED_MESSAGES, type StreamListener } from '../../core/stream-listener.ts';
import type { Logger, LogFields } from '../../core/telemetry/logger.ts';
import type { Counter } from '../../core/telemetry/metrics.ts';
import { receiverAuthMetrics } from '../../core/telemetry/metrics.ts';
import { loadTls } from '../../core/tls.ts';
import { unixPath, type FluentForwardConfig } from './config.ts';
import { ForwardConnection } from './connection.ts';

/** What every connection of one receiver shares. */
export interface ForwardContext {
  cfg: FluentForwardConfig;
  log: Logger;
  consumer: ObsConsumer;
  malformed: Counter;
  authFailed(peer: string, claimed: string, reason: string): void;
  warnThrottled(msg: string, fields: LogFields): void;
}

export class FluentForwardReceiver implements Component {
  private listener: StreamListener | undefined;
  private heartbeat: UdpSocket | undefined;
  private readonly ctx: ForwardContext;
  private lastWarn = 0;
  address = '';

  constructor(settings: CreateSettings<FluentForwardConfig>, next: NextConsumers) {
    const cfg = settings.config;
    const transport = unixPath(cfg.endpoint) !== undefined ? 'unix' : 'tcp';
    const id = settings.id;
    const authMetrics = receiverAuthMetrics(settings.metrics, id, transport);
    this.ctx = {
      cfg,
      log: settings.logger,
      consumer: observedConsumer(settings, next, transport, cfg.max_records_per_request),
      malformed: settings.metrics.counter(MALFORMED_MESSAGES, MALFORMED_HELP, { receiver: id, transport, reason: 'malformed' }),
      authFailed: (peer, claimed, reason) => {
        authMetrics.invalid.add(1);
        settings.logger.warn('fluentforward: handshake refused', { peer, reason });
        emitSecurityEvent({
          time: nowNanos(),
          category: 'authentication',
          action: 'fluentforward handshake',
          outcome: 'failure',
          subject: claimed.slice(0, 256),
          source: peer,
          surface: `receiver/${id}`,
          reason,
          details: { receiver: id, transport, authenticator: 'shared_key', failure: 'invalid' },
        });
      },
      warnThrottled: (msg, fields) => {
        const now = Date.now();
        if (now - this.lastWarn < 10_000) return;
        this.lastWarn = now;
        settings.logger.warn(msg, fields);
      },
    };
  }

  async start(_host?: Host): Promise<void> {
    const cfg = this.ctx.cfg;
    const tls = cfg.tls ? await loadTls(cfg.tls, 'tls') : null;
    const sock = unixPath(cfg.endpoint);
    this.listener = await listenStream(
      { endpoint: cfg.endpoint, unixPath: sock, tls, maxConnections: cfg.max_connections, what: 'fluentforward', log: this.ctx.log },
      ({ socket, peer }) => new ForwardConnection(socket, peer, this.ctx),
    );
    this.address = this.listener.address;
    if (sock === undefined && !cfg.security && !cfg.tls?.client_ca_file && !isLoopbackHost(parseEndpoint(cfg.endpoint).host)) {
      this.ctx.log.warn('senders are not authenticated on a non-loopback endpoint (insecure: true)', { endpoint: cfg.endpoint, transport: 'tcp' });
    }
    if (sock === undefined && cfg.heartbeat) await this.startHeartbeat();
  }

  /** Fluentd's out_forward `heartbeat_type udp`: any datagram is answered with one byte. */
  private async startHeartbeat(): Promise<void> {
    const { host, port } = parseEndpoint(this.address);
    const s = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    s.on('message', (_msg, rinfo) => s.send(Buffer.from([0]), rinfo.port, rinfo.address));
    await new Promise<void>((resolve, reject) => {
      s.once('error', (err) => reject(new Error(`cannot listen for heartbeats on udp ${this.address}: ${err.message}`)));
      s.bind(port, host, () => resolve());
    });
    s.on('error', (err) => this.ctx.log.debug('fluentforward heartbeat socket error', { error: err.message }));
    this.heartbeat = s;
  }

  readonly shutdown = once(async () => {
    const l = this.listener;
    this.listener = undefined;
    this.heartbeat?.close();
    this.heartbeat = undefined;
    if (l) await l.close();
  });
}
