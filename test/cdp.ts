/**
 * Just enough of the Chrome DevTools Protocol over a WebSocket (RFC 6455:
 * client frames masked, text frames, no extensions) to reach a process
 * started with `--inspect` and run an expression on one of its worker
 * threads. Tests use it to end the pipeline thread of a real process from
 * outside, without a hook in the product (Node 20 has no WebSocket client).
 */
import { randomBytes } from 'node:crypto';
import { request } from 'node:http';
import type { Socket } from 'node:net';

/** The inspector's WebSocket URL from the lines a process printed (`Debugger listening on ws://…`). */
export function inspectorUrl(lines: readonly string[]): string | undefined {
  for (const l of lines) {
    const m = /Debugger listening on (ws:\/\/\S+)/.exec(l);
    if (m) return m[1];
  }
  return undefined;
}

export class Cdp {
  private buf = Buffer.alloc(0);
  private nextId = 1;
  private readonly waiters: Array<{ match: (m: CdpMessage) => boolean; resolve: (m: CdpMessage) => void }> = [];
  readonly seen: CdpMessage[] = [];

  private constructor(private readonly socket: Socket) {
    socket.on('data', (d: Buffer) => this.onData(d));
  }

  static connect(url: string): Promise<Cdp> {
    const key = randomBytes(16).toString('base64');
    return new Promise((resolve, reject) => {
      const req = request(url.replace(/^ws:/, 'http:'), { headers: { Connection: 'Upgrade', Upgrade: 'websocket', 'Sec-WebSocket-Version': '13', 'Sec-WebSocket-Key': key } });
      req.on('upgrade', (_res, socket, head: Buffer) => {
        const c = new Cdp(socket);
        if (head.length > 0) c.onData(head);
        resolve(c);
      });
      req.on('response', (res) => reject(new Error(`inspector refused the upgrade: HTTP ${res.statusCode}`)));
      req.on('error', reject);
      req.end();
    });
  }

  /** Sends a command; resolves with its result (rejects with the protocol's error). */
  async call(method: string, params: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
    const id = this.nextId++;
    this.send(JSON.stringify({ id, method, params }));
    const m = await this.next((x) => x.id === id);
    if (m.error) throw new Error(`${method}: ${JSON.stringify(m.error)}`);
    return m.result ?? {};
  }

  /** The first message (already seen or still to come) that `match` accepts. */
  next(match: (m: CdpMessage) => boolean): Promise<CdpMessage> {
    const have = this.seen.find(match);
    if (have) return Promise.resolve(have);
    return new Promise((resolve) => this.waiters.push({ match, resolve }));
  }

  close(): void {
    this.socket.destroy();
  }

  private send(text: string): void {
    const payload = Buffer.from(text);
    const mask = randomBytes(4);
    const len = payload.length;
    const head = len < 126 ? Buffer.from([0x81, 0x80 | len]) : len < 65536 ? Buffer.from([0x81, 0x80 | 126, len >> 8, len & 0xff]) : Buffer.concat([Buffer.from([0x81, 0x80 | 127]), u64(len)]);
    for (let i = 0; i < len; i++) payload[i]! ^= mask[i & 3]!;
    this.socket.write(Buffer.concat([head, mask, payload]));
  }

  private onData(d: Buffer): void {
    this.buf = Buffer.concat([this.buf, d]);
    for (;;) {
      if (this.buf.length < 2) return;
      let len = this.buf[1]! & 0x7f;
      let at = 2;
      if (len === 126) {
        if (this.buf.length < 4) return;
        len = this.buf.readUInt16BE(2);
        at = 4;
      } else if (len === 127) {
        if (this.buf.length < 10) return;
        len = Number(this.buf.readBigUInt64BE(2));
        at = 10;
      }
      if (this.buf.length < at + len) return;
      const opcode = this.buf[0]! & 0x0f;
      const payload = this.buf.subarray(at, at + len);
      this.buf = this.buf.subarray(at + len);
      if (opcode !== 1) continue; // the inspector sends whole text frames; pings and closes are not needed here
      const m = JSON.parse(payload.toString('utf8')) as CdpMessage;
      this.seen.push(m);
      for (let i = this.waiters.length - 1; i >= 0; i--) {
        if (this.waiters[i]!.match(m)) this.waiters.splice(i, 1)[0]!.resolve(m);
      }
    }
  }
}

export interface CdpMessage {
  id?: number;
  method?: string;
  params?: Record<string, unknown>;
  result?: Record<string, unknown>;
  error?: unknown;
}

function u64(n: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(BigInt(n));
  return b;
}

/**
 * Runs `expression` on the worker thread whose title contains `title` (as
 * `NodeWorker.attachedToWorker` names it: the worker's script URL), without
 * waiting for an answer (an expression that ends the thread has none).
 */
export async function evaluateOnWorker(cdp: Cdp, title: string, expression: string): Promise<void> {
  await cdp.call('NodeWorker.enable', { waitForDebuggerOnStart: false });
  const attached = await cdp.next((m) => m.method === 'NodeWorker.attachedToWorker' && String((m.params?.workerInfo as { url?: string; title?: string })?.url ?? '').includes(title));
  const sessionId = String(attached.params!.sessionId);
  const message = JSON.stringify({ id: 1, method: 'Runtime.evaluate', params: { expression } });
  await cdp.call('NodeWorker.sendMessageToWorker', { sessionId, message });
}
