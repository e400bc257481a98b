/**
 * One forward connection: reads msgpack messages off the stream, one at a
 * time, hands each to the pipeline with the socket paused, and acks a
 * message that asked for it (`chunk`) only once the pipeline accepted it.
 *
 * Reading: bytes are kept as a list of chunks and joined only when enough
 * have arrived for the object in progress (the decoder tells the least it
 * needs); a message that is still incomplete is retried after its buffer
 * doubled, or when the sender pauses, so a large Forward-mode message is not
 * decoded again for every TCP segment. A message larger than
 * `chunk_size_limit`, bytes that are not msgpack, a handshake that fails, or
 * a connection that stops mid-message for `body_idle_timeout` close the
 * connection with the reason logged; a message that decodes but is not a
 * valid forward message is dropped, counted refused, not acked, and the
 * connection goes on (the stream is still in step).
 */
import type { Socket } from 'node:net';
import { PermanentError } from '../../core/errors.ts';
import type { ClientInfo } from '../../core/client.ts';
import { NO_METADATA } from '../../core/client.ts';
import { deliverWithBackpressure, logsPayload } from '../../core/stream-listener.ts';
import type { FluentForwardConfig } from './config.ts';
import { checkPing, helo, type Helo } from './handshake.ts';
import { Decoder, encode, Incomplete, MsgpackError } from './msgpack.ts';
import { MalformedMessage, readMessage } from './protocol.ts';
import type { ForwardContext } from './receiver.ts';

/** How long a pause in the sender's bytes means "this is all for now": decode what is there. */
const QUIET_MS = 3;

export class ForwardConnection {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Least total bytes before decoding again. */
  private want = 1;
  private busy = false;
  private closed = false;
  private handshake: Helo | undefined;
  private client: ClientInfo;
  private quiet: NodeJS.Timeout | undefined;
  private idle: NodeJS.Timeout | undefined;

  constructor(
    private readonly socket: Socket,
    peer: string,
    private readonly ctx: ForwardContext,
  ) {
    this.client = { address: peer, metadata: NO_METADATA };
    const cfg = ctx.cfg;
    socket.setKeepAlive(true, 60_000);
    socket.setNoDelay(true);
    socket.on('data', (b: Buffer) => this.onData(b));
    socket.once('close', () => this.onClose());
    if (cfg.security) {
      this.handshake = helo(cfg.security);
      socket.write(this.handshake.bytes);
      this.armIdle();
    }
  }

  private get cfg(): FluentForwardConfig {
    return this.ctx.cfg;
  }

  private onClose(): void {
    this.closed = true;
    clearTimeout(this.quiet);
    clearTimeout(this.idle);
    this.chunks = [];
  }

  private fail(reason: string): void {
    if (this.closed) return;
    this.ctx.log.warn('fluentforward: closing connection', { peer: this.client.address, reason });
    this.closed = true;
    this.socket.destroy();
  }

  /** Half-open senders: a partial message or pending handshake that goes quiet is closed. */
  private armIdle(): void {
    clearTimeout(this.idle);
    if (this.cfg.body_idle_timeout <= 0) return;
    this.idle = setTimeout(() => this.fail(`no bytes for ${this.cfg.body_idle_timeout}ms in the middle of a ${this.handshake ? 'handshake' : 'message'}`), this.cfg.body_idle_timeout);
    this.idle.unref();
  }

  /** The largest message: the limit plus the frame's own headers around a message of exactly the limit. */
  private get cap(): number {
    return this.cfg.chunk_size_limit + 16;
  }

  private onData(b: Buffer): void {
    this.chunks.push(b);
    this.buffered += b.length;
    this.armIdle();
    if (this.busy) {
      // Paused: only what was already read arrives; several pipelined messages may be in it.
      if (this.buffered > 2 * this.cap + (1 << 20)) this.fail(`more than ${this.buffered} bytes buffered while a message is handled`);
      return;
    }
    // Over the cap, decode now: complete messages are consumed, and an oversized one is refused in drain().
    if (this.buffered >= this.want || this.buffered > this.cap) this.pump();
    else {
      clearTimeout(this.quiet);
      this.quiet = setTimeout(() => this.pump(), QUIET_MS);
    }
  }

  private joined(): Buffer {
    if (this.chunks.length !== 1) this.chunks = [Buffer.concat(this.chunks, this.buffered)];
    return this.chunks[0]!;
  }

  private consumed(buf: Buffer, n: number): void {
    const rest = buf.subarray(n);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    this.want = 1;
  }

  private pump(): void {
    clearTimeout(this.quiet);
    if (this.busy || this.closed || this.buffered === 0) return;
    this.busy = true;
    this.socket.pause();
    this.drain()
      .catch((err: unknown) => this.fail(`unexpected error: ${(err as Error).message}`))
      .finally(() => {
        this.busy = false;
        if (this.closed) return;
        this.socket.resume();
        if (this.buffered === 0) clearTimeout(this.idle);
      });
  }

  /** Decodes and handles every complete message buffered. */
  private async drain(): Promise<void> {
    while (!this.closed && this.buffered > 0) {
      const buf = this.joined();
      const d = new Decoder(buf);
      let msg: unknown;
      try {
        msg = this.handshake ? d.decode() : d.decodeMessage();
      } catch (err) {
        if (err instanceof Incomplete) {
          // The buffer starts with this message: what it holds, or says it needs, is the message's size so far.
          if (err.need > this.cap || this.buffered > this.cap) return this.fail(`message of at least ${Math.max(err.need, this.buffered)} bytes is larger than chunk_size_limit ${this.cfg.chunk_size_limit}`);
          this.want = Math.max(err.need, Math.min(2 * this.buffered, this.cap + 1));
          return;
        }
        if (err instanceof MsgpackError) return this.fail(`not a msgpack stream: ${err.message}`);
        throw err;
      }
      this.consumed(buf, d.pos);
      if (this.handshake) {
        if (!this.onPing(msg)) return;
        continue;
      }
      await this.handle(msg);
    }
  }

  private onPing(msg: unknown): boolean {
    const sec = this.cfg.security!;
    const r = checkPing(msg, sec, this.handshake!);
    this.socket.write(r.pong);
    if (!r.ok) {
      this.ctx.authFailed(this.client.address, r.username || r.hostname, r.reason);
      this.socket.end();
      this.closed = true;
      return false;
    }
    this.handshake = undefined;
    this.client = {
      address: this.client.address,
      metadata: NO_METADATA,
      auth: {
        subject: r.username || r.hostname,
        authenticator: 'fluentforward.shared_key',
        attributes: new Map([['hostname', r.hostname]]),
      },
    };
    return true;
  }

  private async handle(msg: unknown): Promise<void> {
    if (!Array.isArray(msg)) return this.refuse(0, `a forward message is an array, got ${msg === null ? 'nil' : typeof msg}`);
    let m;
    try {
      m = await readMessage(msg, { maxDecompressed: this.cfg.chunk_size_limit, parseJsonBody: this.cfg.parse_json_body }, this.cfg.max_records_per_request);
    } catch (err) {
      if (err instanceof MalformedMessage) return this.refuse(0, err.message);
      throw err;
    }
    if (m.records.length === 0) return this.ack(m.chunk);
    const payload = logsPayload(m.records, this.client);
    let accepted: boolean;
    try {
      accepted = await deliverWithBackpressure(() => this.ctx.consumer.logs(payload), () => !this.closed, this.ctx.log, 'fluentforward');
    } catch (err) {
      if (err instanceof PermanentError) return this.refuse(-1, err.message, m.tag);
      throw err;
    }
    if (accepted) this.ack(m.chunk);
  }

  private ack(chunk: string | undefined): void {
    if (chunk !== undefined && !this.closed) this.socket.write(encode({ ack: chunk }));
  }

  /** `records` 0: counted here as one refused message (the records never decoded); -1: already counted by the helper. */
  private refuse(records: number, reason: string, tag?: string): void {
    if (records === 0) this.ctx.malformed.add(1);
    this.ctx.warnThrottled('fluentforward: message refused, not acked', { peer: this.client.address, tag, reason });
  }
}
