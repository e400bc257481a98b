/**
 * Reading an HTTP request body for receivers: Content-Encoding gzip / deflate
 * (zlib) decoded, and `limit` enforced on both the bytes on the wire and the
 * decompressed bytes (a small gzip bomb cannot blow up memory). Failures are
 * `BodyError`s carrying the HTTP status and headers to answer (400 bad
 * encoding, 408 body idle, 413 too large, 429/503 + Retry-After when the
 * listener's in-flight bounds refuse this client: core/inflight.ts).
 */
import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';
import { REFUSAL_RETRY_AFTER_SECONDS, refusalMessage, type InflightBudget } from './inflight.ts';

export class BodyError extends Error {
  override readonly name = 'BodyError';
  constructor(
    readonly status: number,
    message: string,
    /**
     * Headers the answer carries: `connection: close` when the rest of the body is
     * not worth reading (Node then closes the socket once the answer is sent).
     */
    readonly headers: Record<string, string> = status === 413 || status === 408 ? { connection: 'close' } : {},
  ) {
    super(message);
  }
}

/** The listener's in-flight budget of each request (set by core/net.ts serveHttp). */
const budgets = new WeakMap<IncomingMessage, InflightBudget>();

export function setRequestBudget(req: IncomingMessage, budget: InflightBudget): void {
  budgets.set(req, budget);
}

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) {
    return Promise.reject(new BodyError(413, `request body of ${declared} bytes exceeds the limit of ${limit} bytes`));
  }
  const budget = budgets.get(req);
  const client = req.socket.remoteAddress ?? '';
  const enc = (req.headers['content-encoding'] ?? '').toLowerCase().trim();
  let inflater: Transform | undefined;
  if (enc === 'gzip' || enc === 'x-gzip') inflater = createGunzip();
  else if (enc === 'deflate' || enc === 'zlib') inflater = createInflate();
  else if (enc !== 'identity' && enc !== '') {
    return Promise.reject(new BodyError(415, `unsupported Content-Encoding ${JSON.stringify(enc)} (supported: gzip, deflate)`));
  }
  return new Promise((resolve, reject) => {
    let wire = 0;
    let size = 0;
    let held = 0; // bytes counted in the budget for this request
    let done = false;
    const chunks: Buffer[] = [];
    const idleMs = budget?.limits.body_idle_timeout ?? 0;
    const idle = idleMs > 0
      ? setTimeout(() => fail(new BodyError(408, `request body idle for ${idleMs}ms (body_idle_timeout): dropped`)), idleMs)
      : undefined;
    const settle = () => {
      done = true;
      if (idle) clearTimeout(idle);
      budget?.give(client, held);
      held = 0;
    };
    const fail = (err: Error) => {
      if (done) return;
      settle();
      inflater?.destroy();
      req.resume(); // drain, so the connection can answer
      reject(err);
    };
    req.on('error', fail);
    req.on('data', (c: Buffer) => {
      idle?.refresh();
      wire += c.length;
      if (wire > limit) fail(new BodyError(413, `request body exceeds the limit of ${limit} bytes`));
    });
    let source: NodeJS.ReadableStream = req;
    if (inflater) {
      source = req.pipe(inflater);
      inflater.on('error', (e) => fail(new BodyError(400, `cannot decompress ${enc} body: ${e.message}`)));
    }
    source.on('data', (c: Buffer) => {
      if (done) return;
      size += c.length;
      if (size > limit) return fail(new BodyError(413, `decompressed request body exceeds the limit of ${limit} bytes`));
      if (budget) {
        const refused = budget.take(client, c.length);
        if (refused) {
          const retry = { 'retry-after': String(REFUSAL_RETRY_AFTER_SECONDS), connection: 'close' };
          return fail(new BodyError(refused === 'client' ? 429 : 503, refusalMessage(refused, budget.limits), retry));
        }
        held += c.length;
      }
      chunks.push(c);
    });
    source.on('end', () => {
      if (done) return;
      settle();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
  });
}

/**
 * Headers for an answer given before the request's body was read (404, 405,
 * 415, 401 …): `connection: close`, so the server does not go on reading a
 * body nobody wants, for as long as its sender cares to trickle it.
 */
export function closeIfUnread(req: IncomingMessage): Record<string, string> {
  const hasBody = req.headers['transfer-encoding'] !== undefined || Number(req.headers['content-length'] ?? 0) > 0;
  return hasBody && !req.complete ? { connection: 'close' } : {};
}

/** The media type of a Content-Type header, lowercased, without parameters ('' when absent). */
export function mediaType(ct: string | undefined): string {
  return (ct ?? '').split(';')[0]!.trim().toLowerCase();
}
