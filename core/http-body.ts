/**
 * Reading an HTTP request body for receivers: Content-Encoding gzip / deflate
 * (zlib) decoded, and `limit` enforced on both the bytes on the wire and the
 * decompressed bytes (a small gzip bomb cannot blow up memory). Failures are
 * `BodyError`s carrying the HTTP status to answer (400 bad encoding, 413 too
 * large).
 */
import type { IncomingMessage } from 'node:http';
import type { Transform } from 'node:stream';
import { createGunzip, createInflate } from 'node:zlib';

export class BodyError extends Error {
  override readonly name = 'BodyError';
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) {
    return Promise.reject(new BodyError(413, `request body of ${declared} bytes exceeds the limit of ${limit} bytes`));
  }
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
    let done = false;
    const chunks: Buffer[] = [];
    const fail = (err: Error) => {
      if (done) return;
      done = true;
      inflater?.destroy();
      req.resume(); // drain, so the connection can answer
      reject(err);
    };
    req.on('error', fail);
    req.on('data', (c: Buffer) => {
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
      chunks.push(c);
    });
    source.on('end', () => {
      if (done) return;
      done = true;
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    });
  });
}

/** The media type of a Content-Type header, lowercased, without parameters ('' when absent). */
export function mediaType(ct: string | undefined): string {
  return (ct ?? '').split(';')[0]!.trim().toLowerCase();
}
