/** Test helpers for the fluentforward receiver: a receiver on port 0 and a raw msgpack client. */
import net from 'node:net';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import type { LogsConsumer } from '../../core/component.ts';
import { testLogger } from '../../test/helpers.ts';
import { defaultFluentForwardConfig, type FluentForwardConfig } from './config.ts';
import { Decoder, encode, Ext, Incomplete, type Encodable } from './msgpack.ts';
import { FluentForwardReceiver } from './receiver.ts';

export async function startForward(sink: LogsConsumer, cfg: Partial<FluentForwardConfig> = {}, lines: string[] = []) {
  const metrics = new MetricsRegistry();
  const r = new FluentForwardReceiver(
    { id: 'fluentforward', config: { ...defaultFluentForwardConfig(), endpoint: '127.0.0.1:0', ...cfg }, logger: testLogger(lines), metrics },
    { logs: sink },
  );
  await r.start();
  const port = Number(r.address.slice(r.address.lastIndexOf(':') + 1));
  return { r, port, metrics };
}

/** EventTime (ext 0) for seconds + nanoseconds, as msgpack bytes. */
export function eventTime(sec: number, nsec: number): Buffer {
  const b = Buffer.alloc(10);
  b[0] = 0xd7;
  b[1] = 0;
  b.writeUInt32BE(sec, 2);
  b.writeUInt32BE(nsec, 6);
  return b;
}

/** A message whose parts are already msgpack (to splice in EventTime and ints). */
export function arrayOf(...parts: Buffer[]): Buffer {
  return Buffer.concat([Buffer.from([0x90 | parts.length]), ...parts]);
}

export const mp = (v: Encodable) => encode(v);

/** A msgpack positive int (encode() writes whole numbers as uint32). */
export const int = (n: number) => encode(n);

export class RawClient {
  private buf = Buffer.alloc(0);
  private readonly waiters: (() => void)[] = [];
  closed = false;

  constructor(readonly socket: net.Socket) {
    socket.on('data', (b) => {
      this.buf = Buffer.concat([this.buf, b]);
      this.waiters.splice(0).forEach((w) => w());
    });
    socket.on('close', () => {
      this.closed = true;
      this.waiters.splice(0).forEach((w) => w());
    });
    socket.on('error', () => {});
  }

  static connect(port: number): Promise<RawClient> {
    return new Promise((resolve, reject) => {
      const s = net.connect(port, '127.0.0.1', () => resolve(new RawClient(s)));
      s.once('error', reject);
    });
  }

  write(b: Buffer): void {
    this.socket.write(b);
  }

  /** The next msgpack object the server sends; undefined if it closes first. */
  async read(timeoutMs = 5000): Promise<unknown> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.buf.length) {
        const d = new Decoder(this.buf);
        try {
          const v = d.decode();
          this.buf = this.buf.subarray(d.pos);
          return v;
        } catch (err) {
          if (!(err instanceof Incomplete)) throw err;
        }
      }
      if (this.closed) return undefined;
      if (Date.now() > deadline) throw new Error('timed out waiting for the server');
      await new Promise<void>((r) => {
        this.waiters.push(r);
        setTimeout(r, 50);
      });
    }
  }

  waitClosed(timeoutMs = 5000): Promise<boolean> {
    return new Promise((resolve) => {
      if (this.closed) return resolve(true);
      const t = setTimeout(() => resolve(false), timeoutMs);
      this.socket.once('close', () => {
        clearTimeout(t);
        resolve(true);
      });
    });
  }

  end(): void {
    this.socket.destroy();
  }
}

export { Ext };
