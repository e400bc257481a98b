/**
 * One Lumberjack connection: frames in, events to the pipeline, ACKs out.
 *
 * ACKs are cumulative sequence numbers within the sender's window, and one
 * is sent only after the pipeline accepted (in the default pipeline: the
 * spool fsynced) every event up to it. A window is handed on in batches of
 * at most `max_batch_records` events / `max_batch_bytes`, each ACKed when
 * accepted, so a large window neither sits whole in memory nor waits for
 * one big ACK. While a batch is with the pipeline the socket is paused
 * (the sender's TCP window fills: backpressure), and the last ACK is
 * repeated every `keepalive_interval` so the sender does not time out.
 * When the pipeline refuses (memory limit, full queue) the batch is offered
 * again after the Retry-After it gives, for as long as the sender stays
 * connected; nothing is ACKed that was not accepted. A protocol error
 * closes the connection (a byte stream cannot be resynchronised), and the
 * sender resends what was not ACKed.
 */
import type { Socket } from 'node:net';
import { promisify } from 'node:util';
import { inflate } from 'node:zlib';
import type { ClientInfo } from '../../core/client.ts';
import { RefusedError } from '../../core/errors.ts';
import { emptyResource, emptyScope, type LogRecord, type LogsData } from '../../core/model.ts';
import { Payload } from '../../core/payload.ts';
import type { ObsConsumer } from '../../core/receiver-helper.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { Counter } from '../../core/telemetry/metrics.ts';
import type { BeatsReceiverConfig } from './config.ts';
import { ByteQueue, ProtocolError, ackFrame, nextFrame, parseFrame, type Frame } from './frames.ts';
import { eventRecord, pairsRecord } from './translate.ts';

const inflateAsync = promisify(inflate) as (buf: Buffer, opts: { maxOutputLength: number }) => Promise<Buffer>;
const MAX_RETRY_WAIT_MS = 30_000;

/** An event as received: a JSON event, or the pairs of a v1 data frame, or a payload that is not a JSON object. */
type Event = Record<string, unknown> | [string, string][] | { undecodable: string; reason: string };

export interface ConnectionDeps {
  cfg: BeatsReceiverConfig;
  consumer: ObsConsumer;
  client: ClientInfo;
  log: Logger;
  protocolErrors: Counter;
  undecodable: Counter;
}

export class BeatsConnection {
  private readonly q = new ByteQueue();
  private busy = false;
  private closed = false;
  private version = 0x32;
  /** Events the current window announced, received so far, and the last seq ACKed. */
  private window = 0;
  private received = 0;
  private acked = 0;
  private lastSeq = 0;
  private pending: Event[] = [];
  private pendingBytes = 0;

  constructor(
    private readonly sock: Socket,
    private readonly d: ConnectionDeps,
  ) {
    sock.on('data', (c: Buffer) => this.onData(c));
    sock.on('error', () => {}); // reset by the peer: 'close' follows
    sock.on('close', () => (this.closed = true));
    if (d.cfg.client_inactivity_timeout > 0) {
      sock.setTimeout(d.cfg.client_inactivity_timeout, () => {
        if (!this.busy) sock.destroy();
      });
    }
  }

  private onData(c: Buffer): void {
    this.q.push(c);
    if (this.busy) {
      // Parsing is waiting for the pipeline: hold at most about one frame's worth.
      if (this.q.length > this.d.cfg.max_message_size) this.sock.pause();
      return;
    }
    void this.run();
  }

  private async run(): Promise<void> {
    this.busy = true;
    try {
      for (;;) {
        if (this.closed) return;
        const f = nextFrame(this.q, this.d.cfg.max_message_size);
        if (!f) break;
        await this.frame(f, false);
      }
    } catch (err) {
      this.fail(err);
      return;
    } finally {
      this.busy = false;
    }
    if (!this.closed) this.sock.resume();
  }

  private fail(err: unknown): void {
    if (this.closed) return;
    const protocol = err instanceof ProtocolError;
    if (protocol) this.d.protocolErrors.add(1);
    this.d.log.warn(protocol ? 'closing a Lumberjack connection: protocol error' : 'closing a Lumberjack connection: the pipeline failed permanently', {
      peer: this.d.client.address,
      error: (err as Error).message,
    });
    this.closed = true;
    this.sock.destroy();
  }

  private async frame(f: Frame, inCompressed: boolean): Promise<void> {
    const { cfg } = this.d;
    switch (f.type) {
      case 'W':
        if (this.received < this.window) throw new ProtocolError(`a new window after ${this.received} of the ${this.window} events announced`);
        if (f.size === 0 || f.size > cfg.max_window_size) throw new ProtocolError(`window of ${f.size} events (1 to max_window_size ${cfg.max_window_size})`);
        this.version = f.version;
        this.window = f.size;
        this.received = 0;
        this.acked = 0;
        return;
      case 'C': {
        if (inCompressed) throw new ProtocolError('a compressed frame inside a compressed frame');
        let inner: Buffer;
        try {
          inner = await inflateAsync(f.payload, { maxOutputLength: cfg.max_message_size });
        } catch (err) {
          const e = err as Error & { code?: string };
          throw new ProtocolError(e.code === 'ERR_BUFFER_TOO_LARGE' ? `compressed frame inflates beyond max_message_size ${cfg.max_message_size}` : `compressed frame: ${e.message}`);
        }
        let off = 0;
        while (off < inner.length) {
          const got = parseFrame(inner, off, cfg.max_message_size);
          if (!got) throw new ProtocolError('compressed frame ends inside a frame');
          off = got[1];
          if (this.closed) return;
          await this.frame(got[0], true);
        }
        return;
      }
      case 'J':
        return this.event(f.seq, decodeJson(f.payload), f.payload.length);
      case 'D':
        return this.event(f.seq, f.pairs, f.bytes);
    }
  }

  private async event(seq: number, e: Event, bytes: number): Promise<void> {
    if (this.received >= this.window) throw new ProtocolError(this.window === 0 ? 'an event before any window frame' : `more events than the window of ${this.window}`);
    this.received++;
    this.lastSeq = seq;
    // Kept (as its text, with the reason) rather than dropped: the sender gets its ACK and nothing is lost.
    if (!Array.isArray(e) && UNDECODABLE.has(e)) this.d.undecodable.add(1);
    this.pending.push(e);
    this.pendingBytes += bytes;
    const { cfg } = this.d;
    if (this.received === this.window || this.pending.length >= cfg.max_batch_records || this.pendingBytes >= cfg.max_batch_bytes) await this.flush();
  }

  private async flush(): Promise<void> {
    const events = this.pending;
    const seq = this.lastSeq;
    this.pending = [];
    this.pendingBytes = 0;
    this.sock.pause();
    const keepalive = setInterval(() => this.write(ackFrame(this.version, this.acked)), this.d.cfg.keepalive_interval);
    try {
      await this.deliver(events);
    } finally {
      clearInterval(keepalive);
    }
    if (this.closed) return;
    this.acked = seq;
    this.write(ackFrame(this.version, seq));
  }

  /** Offers the events until the pipeline takes them or the sender goes away (it then resends: they were not ACKed). */
  private async deliver(events: Event[]): Promise<void> {
    for (;;) {
      if (this.closed) return;
      try {
        await this.d.consumer.logs(Payload.logs(this.records(events), this.d.client));
        return;
      } catch (err) {
        if (!(err instanceof RefusedError)) throw err;
        await new Promise((r) => setTimeout(r, Math.min(err.retryAfterSeconds * 1000, MAX_RETRY_WAIT_MS)));
      }
    }
  }

  /** Built afresh for each offer: a stage may have changed the records of a refused one in place. */
  private records(events: Event[]): LogsData {
    const observed = BigInt(Date.now()) * 1_000_000n;
    const out: LogRecord[] = new Array(events.length);
    for (let i = 0; i < events.length; i++) {
      const e = events[i]!;
      if (Array.isArray(e)) out[i] = pairsRecord(e, observed);
      else if (UNDECODABLE.has(e)) {
        const u = e as { undecodable: string; reason: string };
        out[i] = pairsRecord([['message', u.undecodable], ['beats.decode_error', u.reason]], observed);
      } else out[i] = eventRecord(e as Record<string, unknown>, observed);
    }
    return { resourceLogs: [{ resource: emptyResource(), schemaUrl: '', scopeLogs: [{ scope: emptyScope(), schemaUrl: '', logRecords: out }] }] };
  }

  private write(b: Buffer): void {
    if (!this.closed && this.sock.writable) this.sock.write(b);
  }
}

/** Events we made for payloads that were not JSON objects (so a sender's field named `undecodable` is never mistaken for one). */
const UNDECODABLE = new WeakSet<object>();

function decodeJson(payload: Buffer): Event {
  const text = payload.toString('utf8');
  try {
    const v: unknown = JSON.parse(text);
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) return v as Record<string, unknown>;
    return undecodable(text, 'the JSON frame is not an object');
  } catch (err) {
    return undecodable(text, `the JSON frame is not JSON: ${(err as Error).message}`);
  }
}

function undecodable(text: string, reason: string): Event {
  const e = { undecodable: text, reason };
  UNDECODABLE.add(e);
  return e;
}
