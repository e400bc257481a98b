/**
 * The Jaeger agent's UDP ports: each datagram is one `Agent.emitBatch`
 * oneway thrift message, TCompactProtocol on 6831 and TBinaryProtocol on 6832
 * (jaeger-client-node's UDPSender sends binary to 6832).
 *
 * UDP has no way to push back, so packets go through a bounded queue drained
 * by `workers` concurrent consumers. A datagram that is oversized or does not
 * decode, or that arrives while the queue is full, is dropped and counted in
 * `trailhouse_receiver_dropped_packets{reason=...}`; spans the pipeline
 * refuses are counted by the receiver helper (`otelcol_receiver_refused_spans`).
 */
import { createSocket, type Socket } from 'node:dgram';
import { parseEndpoint } from '../../core/net.ts';
import type { ObsConsumer } from '../../core/receiver-helper.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { Counter, MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { BinaryReader, CompactReader, type ThriftReader } from '../../core/thrift/index.ts';
import type { UdpConfig } from './config.ts';
import { readEmitBatch } from './thrift-decode.ts';
import { jaegerPayload } from './translate.ts';

export type UdpProtocol = 'compact' | 'binary';

export const DROPPED_PACKETS = 'trailhouse_receiver_dropped_packets';

/** Logs a condition at most once per interval, never once per packet. */
class Throttled {
  private last = 0;
  constructor(private readonly ms: number) {}
  ready(): boolean {
    const now = Date.now();
    if (now - this.last < this.ms) return false;
    this.last = now;
    return true;
  }
}

/** Upper bound of agent packets decoded and handed on together. */
const MAX_PACKETS_PER_CONSUME = 256;

export class JaegerUdpServer {
  private socket: Socket | undefined;
  private readonly queue: Buffer[] = [];
  private active = 0;
  private idle: (() => void) | undefined;
  private readonly drops: Record<'malformed' | 'oversized' | 'queue_full', Counter>;
  private readonly warnMalformed = new Throttled(10_000);
  private readonly warnFull = new Throttled(10_000);
  private readonly warnRefused = new Throttled(10_000);
  address = '';

  constructor(
    private readonly cfg: UdpConfig,
    private readonly protocol: UdpProtocol,
    private readonly consumer: ObsConsumer,
    private readonly log: Logger,
    metrics: MetricsRegistry,
    receiverId: string,
  ) {
    const transport = `udp_thrift_${protocol}`;
    const help = 'UDP packets dropped by a receiver before reaching the pipeline, by reason.';
    const c = (reason: string) => metrics.counter(DROPPED_PACKETS, help, { receiver: receiverId, transport, reason });
    this.drops = { malformed: c('malformed'), oversized: c('oversized'), queue_full: c('queue_full') };
  }

  async start(): Promise<void> {
    const { host, port } = parseEndpoint(this.cfg.endpoint);
    const socket = createSocket({ type: host.includes(':') ? 'udp6' : 'udp4' });
    socket.on('message', (msg) => this.onPacket(msg));
    await new Promise<void>((resolve, reject) => {
      socket.once('error', (err) => reject(new Error(`cannot listen on udp ${this.cfg.endpoint}: ${err.message}`)));
      socket.bind(port, host, () => resolve());
    });
    socket.on('error', (err) => this.log.error('Jaeger UDP socket error', { error: err, protocol: this.protocol }));
    if (this.cfg.socket_buffer_size > 0) {
      try {
        socket.setRecvBufferSize(this.cfg.socket_buffer_size);
      } catch (err) {
        // Some systems refuse sizes above their maximum instead of capping them.
        this.log.warn('cannot set the UDP receive buffer size; keeping the system default', { error: err, requested: this.cfg.socket_buffer_size });
      }
    }
    const a = socket.address();
    this.address = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
    this.socket = socket;
    this.log.info('Jaeger agent UDP receiver listening', { address: this.address, protocol: this.protocol });
  }

  private onPacket(msg: Buffer): void {
    if (msg.length > this.cfg.max_packet_size) {
      this.drops.oversized.add(1);
      return;
    }
    if (this.queue.length >= this.cfg.queue_size) {
      this.drops.queue_full.add(1);
      if (this.warnFull.ready()) this.log.warn('Jaeger UDP queue is full: dropping packets', { queue_size: this.cfg.queue_size });
      return;
    }
    this.queue.push(msg);
    this.pump();
  }

  /**
   * Each worker takes every packet queued (up to MAX_PACKETS_PER_CONSUME) and
   * hands them on as one payload. Downstream stages settle a consume only once
   * its data is accepted (the batch processor waits for its batch to fill or
   * time out), so one packet per consume would cap a receiver at
   * workers / batch timeout packets a second and drop the rest.
   */
  private pump(): void {
    while (this.active < this.cfg.workers && this.queue.length > 0) {
      const msgs = this.queue.splice(0, MAX_PACKETS_PER_CONSUME);
      this.active++;
      void this.process(msgs).finally(() => {
        this.active--;
        if (this.queue.length > 0) this.pump();
        else if (this.active === 0) this.idle?.();
      });
    }
  }

  private async process(msgs: Buffer[]): Promise<void> {
    const batches = [];
    for (const msg of msgs) {
      try {
        const r: ThriftReader = this.protocol === 'compact' ? new CompactReader(msg) : new BinaryReader(msg);
        batches.push(readEmitBatch(r));
      } catch (err) {
        this.drops.malformed.add(1);
        if (this.warnMalformed.ready()) {
          this.log.warn('dropping malformed Jaeger agent packet', { error: err, protocol: this.protocol, bytes: msg.length });
        }
      }
    }
    if (batches.length === 0) return;
    try {
      await this.consumer.traces(jaegerPayload(batches));
    } catch (err) {
      // Counted as refused spans by the receiver helper; UDP cannot tell the sender.
      if (this.warnRefused.ready()) this.log.warn('pipeline refused spans from the Jaeger agent port', { error: err });
    }
  }

  /** Stops receiving, then waits (bounded) for queued packets to be handed on. */
  async shutdown(): Promise<void> {
    const socket = this.socket;
    if (!socket) return;
    this.socket = undefined;
    await new Promise<void>((resolve) => socket.close(() => resolve()));
    if (this.active === 0 && this.queue.length === 0) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 10_000);
      this.idle = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}
