/**
 * The syslog receiver: RFC 5424 / RFC 3164 lines over TCP (octet counting
 * or non-transparent framing, optionally TLS as RFC 5425) and UDP.
 *
 * TCP: the complete messages of each read are one batch, handed on with
 * the socket paused and retried while the pipeline refuses (backpressure).
 * UDP cannot push back: datagrams are batched per event-loop turn, at most
 * one batch in flight plus one being filled (bounded); what arrives beyond
 * that, or what the pipeline refuses, is dropped and counted.
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import type { Socket } from 'node:net';
import type { Component, CreateSettings, Host, NextConsumers } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { NO_METADATA, type ClientInfo } from '../../core/client.ts';
import type { LogRecord } from '../../core/model.ts';
import { isLoopbackHost } from '../../core/auth-config.ts';
import { parseEndpoint } from '../../core/net.ts';
import { observedConsumer, type ObsConsumer } from '../../core/receiver-helper.ts';
import { deliverWithBackpressure, listenStream, logsPayload, MALFORMED_HELP, MALFORMED_MESSAGES, type StreamListener } from '../../core/stream-listener.ts';
import type { Counter } from '../../core/telemetry/metrics.ts';
import { loadTls } from '../../core/tls.ts';
import { liftJsonBody } from '../../lib/mesh/json-line.ts';
import type { SyslogConfig } from './config.ts';
import { Framer } from './framing.ts';
import { parseSyslog, type ParseOptions } from './parse.ts';

const UDP_BATCH_MAX = 4096;

export class SyslogReceiver implements Component {
  private tcp: StreamListener | undefined;
  private udp: UdpSocket | undefined;
  private readonly cfg: SyslogConfig;
  private readonly parse: ParseOptions;
  private readonly tcpConsumer: ObsConsumer;
  private readonly udpConsumer: ObsConsumer;
  private readonly counters: Record<'tcp' | 'udp', { unparsed: Counter; oversized: Counter; dropped: Counter }>;
  private lastWarn = 0;
  private udpBatch: LogRecord[] = [];
  private udpInFlight = false;
  private udpScheduled = false;
  tcpAddress = '';
  udpAddress = '';

  constructor(private readonly settings: CreateSettings<SyslogConfig>, next: NextConsumers) {
    const cfg = settings.config;
    this.cfg = cfg;
    this.parse = { protocol: cfg.protocol, location: cfg.location, allowSkipPri: cfg.allow_skip_pri_header };
    this.tcpConsumer = observedConsumer(settings, next, 'tcp');
    this.udpConsumer = observedConsumer(settings, next, 'udp');
    const m = settings.metrics;
    const c = (transport: string) => ({
      unparsed: m.counter(MALFORMED_MESSAGES, MALFORMED_HELP, { receiver: settings.id, transport, reason: 'unparsed' }),
      oversized: m.counter(MALFORMED_MESSAGES, MALFORMED_HELP, { receiver: settings.id, transport, reason: 'oversized' }),
      dropped: m.counter('trailhouse_receiver_dropped_packets', 'UDP packets dropped by a receiver before reaching the pipeline, by reason.', { receiver: settings.id, transport, reason: 'queue_full' }),
    });
    this.counters = { tcp: c('tcp'), udp: c('udp') };
  }

  async start(_host?: Host): Promise<void> {
    const cfg = this.cfg;
    if (cfg.tcp) {
      const tls = cfg.tcp.tls ? await loadTls(cfg.tcp.tls, 'tcp.tls') : null;
      this.tcp = await listenStream(
        { endpoint: cfg.tcp.listen_address, tls, maxConnections: cfg.max_connections, what: 'syslog', log: this.settings.logger },
        ({ socket, peer }) => this.connection(socket, peer),
      );
      this.tcpAddress = this.tcp.address;
    }
    if (cfg.udp) await this.startUdp(cfg.udp.listen_address);
    const open = [cfg.tcp && !cfg.tcp.tls?.client_ca_file ? cfg.tcp.listen_address : undefined, cfg.udp?.listen_address].filter((a): a is string => !!a && !isLoopbackHost(parseEndpoint(a).host));
    for (const endpoint of open) this.settings.logger.warn('senders are not authenticated on a non-loopback endpoint (insecure: true)', { endpoint });
  }

  private warn(msg: string, fields: Record<string, unknown>): void {
    const now = Date.now();
    if (now - this.lastWarn < 10_000) return;
    this.lastWarn = now;
    this.settings.logger.warn(msg, fields);
  }

  /** Parses lines into `out`; an unparsable line is kept with the raw line as its body (and counted). */
  private parseInto(lines: string[], out: LogRecord[], transport: 'tcp' | 'udp', net: NetAttrs | undefined): void {
    const observed = BigInt(Date.now()) * 1_000_000n;
    for (const line of lines) {
      let r = parseSyslog(line, this.parse, observed);
      if (!r) {
        this.counters[transport].unparsed.add(1);
        this.warn('syslog: a line did not parse as ' + this.parse.protocol + '; kept with the raw line as the body', { line: line.slice(0, 200) });
        r = { timeUnixNano: 0n, observedTimeUnixNano: observed, severityNumber: 0, severityText: '', body: line, attributes: [], droppedAttributesCount: 0, flags: 0, traceId: '', spanId: '', eventName: '' };
      } else if (this.cfg.parse_json_body) liftJsonBody(r);
      if (net) r.attributes.push(...net.attrs);
      out.push(r);
    }
  }

  private connection(socket: Socket, peer: string): void {
    const cfg = this.cfg;
    const maxSize = cfg.enable_octet_counting ? cfg.max_octets : cfg.tcp!.max_log_size;
    const framer = new Framer(cfg.enable_octet_counting, cfg.non_transparent_framing_trailer === 'NUL' ? 0 : 0x0a, maxSize);
    const client: ClientInfo = { address: peer, metadata: NO_METADATA };
    const net = cfg.tcp!.add_attributes ? netAttrs('tcp', socket.remoteAddress, socket.remotePort, socket.localAddress, socket.localPort) : undefined;
    let open = true;
    let idle: NodeJS.Timeout | undefined;
    const close = (reason: string) => {
      if (!open) return;
      open = false;
      this.warn('syslog: closing connection', { peer, reason });
      socket.destroy();
    };
    socket.setKeepAlive(true, 60_000);
    socket.once('close', () => {
      open = false;
      clearTimeout(idle);
    });
    // One batch at a time: the socket stays paused while a batch is delivered.
    let chain: Promise<void> = Promise.resolve();
    socket.on('data', (chunk: Buffer) => {
      const frames = framer.push(chunk);
      if (frames.oversized) this.counters.tcp.oversized.add(frames.oversized);
      if (frames.error) return close(frames.error);
      clearTimeout(idle);
      if (framer.partial && cfg.body_idle_timeout > 0) {
        idle = setTimeout(() => close(`no bytes for ${cfg.body_idle_timeout}ms in the middle of a message`), cfg.body_idle_timeout);
        idle.unref();
      }
      if (!frames.lines.length) return;
      const records: LogRecord[] = [];
      this.parseInto(frames.lines, records, 'tcp', net);
      socket.pause();
      chain = chain
        .then(() => deliverWithBackpressure(() => this.tcpConsumer.logs(logsPayload(records, client)), () => open, this.settings.logger, 'syslog'))
        .then(
          () => undefined,
          (err: unknown) => this.warn('syslog: the pipeline refused a batch for good; dropped', { peer, error: (err as Error).message }),
        )
        .finally(() => {
          if (open) socket.resume();
        });
    });
  }

  private async startUdp(endpoint: string): Promise<void> {
    const { host, port } = parseEndpoint(endpoint);
    const s = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    s.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
    await new Promise<void>((resolve, reject) => {
      s.once('error', (err) => reject(new Error(`cannot listen on udp ${endpoint}: ${err.message}`)));
      s.bind(port, host, () => resolve());
    });
    s.on('error', (err) => this.settings.logger.error('syslog UDP socket error', { error: err }));
    this.udp = s;
    const a = s.address();
    this.udpAddress = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
    this.settings.logger.info('syslog receiver listening', { address: this.udpAddress, transport: 'udp' });
  }

  private onDatagram(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.udpBatch.length >= UDP_BATCH_MAX) {
      this.counters.udp.dropped.add(1);
      return;
    }
    const lines: string[] = [];
    let i = 0;
    while (i < msg.length) {
      let end = msg.indexOf(0x0a, i);
      if (end < 0) end = msg.length;
      let e = end;
      while (e > i && (msg[e - 1] === 0x0d || msg[e - 1] === 0)) e--;
      if (e > i) lines.push(msg.toString('utf8', i, e));
      i = end + 1;
    }
    const net = this.cfg.udp!.add_attributes ? netAttrs('udp', rinfo.address, rinfo.port, this.udp?.address().address, this.udp?.address().port) : undefined;
    this.parseInto(lines, this.udpBatch, 'udp', net);
    if (!this.udpScheduled && !this.udpInFlight) {
      this.udpScheduled = true;
      setImmediate(() => void this.flushUdp());
    }
  }

  private async flushUdp(): Promise<void> {
    this.udpScheduled = false;
    if (this.udpInFlight || !this.udpBatch.length) return;
    const batch = this.udpBatch;
    this.udpBatch = [];
    this.udpInFlight = true;
    try {
      // Each datagram's sender is its own; a batch of many has none (as after a batch processor).
      await this.udpConsumer.logs(logsPayload(batch, { address: '', metadata: NO_METADATA }));
    } catch (err) {
      this.warn('syslog: the pipeline refused UDP messages; dropped (UDP cannot push back)', { error: (err as Error).message });
    } finally {
      this.udpInFlight = false;
      if (this.udpBatch.length) void this.flushUdp();
    }
  }

  readonly shutdown = once(async () => {
    const t = this.tcp;
    this.tcp = undefined;
    this.udp?.close();
    this.udp = undefined;
    if (t) await t.close();
  });
}

interface NetAttrs {
  attrs: { key: string; value: string | bigint }[];
}

/** The Collector's tcp/udp input `add_attributes` (net.* names of its stanza operators). */
function netAttrs(transport: string, peerIp?: string, peerPort?: number, hostIp?: string, hostPort?: number): NetAttrs {
  return {
    attrs: [
      { key: 'net.transport', value: transport === 'tcp' ? 'IP.TCP' : 'IP.UDP' },
      { key: 'net.peer.ip', value: peerIp ?? '' },
      { key: 'net.peer.port', value: BigInt(peerPort ?? 0) },
      { key: 'net.host.ip', value: hostIp ?? '' },
      { key: 'net.host.port', value: BigInt(hostPort ?? 0) },
    ],
  };
}
