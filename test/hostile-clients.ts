/**
 * Clients that behave as an attacker's would, for the receive-bounds tests:
 * raw HTTP/1.1 sockets that send headers and part of a body and then stop,
 * raw HTTP/2 gRPC streams that do the same, and well-behaved requests sent
 * from another loopback address (127.0.0.x), so a per-client bound can tell
 * the two apart.
 */
import { connect as h2connect, constants, type ClientHttp2Session } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { request } from 'node:http';

const FILL = Buffer.alloc(64 * 1024, 0x0a);

export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/** A socket that sent a POST's headers (with `contentLength`) and `sent` bytes of body; `answer` is whatever comes back. */
export interface HalfSent {
  socket: Socket;
  answer: Promise<RawAnswer | 'closed'>;
  /** Sends more body bytes. */
  more(n: number): void;
}

export function halfSentPost(
  address: string,
  path: string,
  contentLength: number,
  sent: number,
  localAddress = '127.0.0.1',
  contentType = 'application/x-protobuf',
): Promise<HalfSent> {
  const [host, port] = splitHostPort(address);
  return new Promise((resolve, reject) => {
    const socket = connect({ host, port, localAddress }, () => {
      socket.write(`POST ${path} HTTP/1.1\r\nHost: ${address}\r\nContent-Type: ${contentType}\r\nContent-Length: ${contentLength}\r\n\r\n`);
      // One 64 KiB buffer written again and again: the sender's own memory stays small
      // (these clients run in the test's process, next to the limiter that measures it).
      const more = (n: number) => {
        for (; n > 0 && !socket.destroyed; n -= FILL.length) socket.write(n >= FILL.length ? FILL : FILL.subarray(0, n));
      };
      more(sent);
      resolve({ socket, answer, more });
    });
    socket.on('error', () => {});
    const answer = new Promise<RawAnswer | 'closed'>((done) => {
      let buf = '';
      socket.on('data', (c: Buffer) => {
        buf += c.toString('latin1');
        const parsed = parseAnswer(buf);
        if (parsed) done(parsed);
      });
      socket.on('close', () => done(parseAnswer(buf) ?? 'closed'));
    });
    socket.once('error', reject);
  });
}

function parseAnswer(buf: string): RawAnswer | undefined {
  const end = buf.indexOf('\r\n\r\n');
  if (end < 0) return undefined;
  const [statusLine, ...lines] = buf.slice(0, end).split('\r\n');
  const headers: Record<string, string> = {};
  for (const l of lines) {
    const i = l.indexOf(':');
    headers[l.slice(0, i).trim().toLowerCase()] = l.slice(i + 1).trim();
  }
  const body = buf.slice(end + 4);
  const len = Number(headers['content-length'] ?? 0);
  if (body.length < len) return undefined;
  return { status: Number(statusLine!.split(' ')[1]), headers, body };
}

function splitHostPort(address: string): [string, number] {
  const i = address.lastIndexOf(':');
  return [address.slice(0, i).replace(/^\[|\]$/g, ''), Number(address.slice(i + 1))];
}

/** A whole POST from `localAddress`; resolves with its status and Retry-After. */
export function postFrom(address: string, path: string, body: Uint8Array, localAddress: string, contentType = 'application/x-protobuf'): Promise<{ status: number; retryAfter?: string; body: string }> {
  const [host, port] = splitHostPort(address);
  return new Promise((resolve, reject) => {
    const req = request({ host, port, path, method: 'POST', localAddress, agent: false, headers: { 'content-type': contentType, 'content-length': body.length } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'], body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** A gRPC length-prefixed message frame. */
export function grpcFrame(message: Uint8Array, declared = message.length): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(declared, 1);
  return Buffer.concat([head, message]);
}

export interface GrpcStreamOutcome {
  /** grpc-status from the trailers, or undefined when the stream was reset. */
  status?: number;
  /** RST_STREAM code when the server reset the stream. */
  rstCode: number;
}

/**
 * One raw gRPC call on `session`: sends `bytes` (a frame or part of one) and ends
 * the request only when `end`; resolves when the server answers or resets it.
 */
export function rawGrpcCall(session: ClientHttp2Session, path: string, bytes: Uint8Array, end: boolean): Promise<GrpcStreamOutcome> {
  const stream = session.request({
    [constants.HTTP2_HEADER_METHOD]: 'POST',
    [constants.HTTP2_HEADER_PATH]: path,
    'content-type': 'application/grpc',
    te: 'trailers',
  });
  return new Promise((resolve) => {
    let status: number | undefined;
    stream.on('response', (h) => {
      if (h['grpc-status'] !== undefined) status = Number(h['grpc-status']);
    });
    stream.on('trailers', (t) => {
      if (t['grpc-status'] !== undefined) status = Number(t['grpc-status']);
    });
    stream.on('error', () => {});
    stream.on('data', () => {});
    stream.on('close', () => resolve({ status, rstCode: stream.rstCode ?? 0 }));
    stream.write(bytes);
    if (end) stream.end();
  });
}

export function grpcSession(address: string, localAddress = '127.0.0.1'): ClientHttp2Session {
  const [host, port] = splitHostPort(address);
  const s = h2connect(`http://${host}:${port}`, { localAddress } as never);
  s.on('error', () => {});
  return s;
}
