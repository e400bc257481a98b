/**
 * Answers of the query interface: results streamed from the engine chunk by
 * chunk (never a whole result in memory), errors in ClickHouse's text form.
 */
import type http from 'node:http';
import zlib from 'node:zlib';
import { AdmissionError, clickhouseCode, httpStatusForCode } from '../errors.ts';
import type { ReadonlyPool, ResultChunk } from './readonly-pool.ts';

export class HttpError extends Error {
  constructor(readonly code: number, readonly type: string, message: string) {
    super(message);
  }
}

export const VERSION_OF = (pool: ReadonlyPool): string => pool.version || 'unknown';

/** `Code: N. DB::Exception: msg (TYPE) (version V)`. */
export function formatException(err: unknown, VERSION: string): { code: number; body: string } {
  if (err instanceof AdmissionError || err instanceof HttpError) {
    return { code: err.code, body: `Code: ${err.code}. DB::Exception: ${err.message}. (${err.type}) (version ${VERSION})\n` };
  }
  const message = err instanceof Error ? err.message : String(err);
  const code = clickhouseCode(err);
  if (code === undefined) {
    // Not from the engine: ours (STD_EXCEPTION, a server fault).
    return { code: 1001, body: `Code: 1001. DB::Exception: ${message}. (STD_EXCEPTION) (version ${VERSION})\n` };
  }
  let body = message.trim().replace(/^Query failed: /, '');
  if (!/^Code: \d+\./.test(body)) body = `Code: ${code}. DB::Exception: ${body}`;
  if (!/\(version [^)]*\)$/.test(body)) body += ` (version ${VERSION})`;
  return { code, body: body + '\n' };
}

export function statusFor(code: number): number {
  // A missing parameter is the client's mistake, as in ClickHouse's 400s; a
  // full queue is "come back shortly".
  if (code === 202) return 503;
  return code === 457 || code === 456 ? 400 : httpStatusForCode(code);
}

export function contentType(format: string): string {
  const f = format.toLowerCase();
  if (f.startsWith('json')) return 'application/json; charset=UTF-8';
  if (f.startsWith('tabseparated') || f.startsWith('tsv')) return 'text/tab-separated-values; charset=UTF-8';
  if (f.startsWith('csv')) return 'text/csv; charset=UTF-8; header=' + (f.includes('names') ? 'present' : 'absent');
  if (['parquet', 'arrow', 'arrowstream', 'native', 'rowbinary', 'orc', 'avro'].some((b) => f.startsWith(b))) return 'application/octet-stream';
  return 'text/plain; charset=UTF-8';
}

/** Resolves when `out` can take more (or the connection is gone). */
function writable(out: NodeJS.WritableStream, res: http.ServerResponse, chunk: Uint8Array): Promise<void> | undefined {
  // A connection already gone never drains; the stream's signal stops the query.
  if (res.destroyed) return undefined;
  if (out.write(chunk)) return undefined;
  return new Promise<void>((resolve) => {
    const done = () => {
      out.removeListener('drain', done);
      res.removeListener('close', done);
      resolve();
    };
    out.once('drain', done);
    res.once('close', done);
  });
}

/**
 * Streams a result: the status and headers go out with the first chunk, so an
 * error the engine raises before any row (most errors) still gets its status
 * and ClickHouse's error text. An error after rows were sent is appended to
 * the body, as ClickHouse does, and the connection is cut so no client takes
 * the answer for complete. Returns the number of result rows.
 */
export async function streamResult(
  req: http.IncomingMessage,
  res: http.ServerResponse,
  url: URL,
  stream: AsyncIterable<ResultChunk>,
  format: string,
  headOnly: boolean,
  version: string,
): Promise<{ rows: number; bytes: number }> {
  let rows = 0;
  let bytes = 0;
  let out: NodeJS.WritableStream = res;
  let started = false;
  const start = () => {
    started = true;
    res.statusCode = 200;
    res.setHeader('Content-Type', contentType(format));
    res.setHeader('X-ClickHouse-Format', format);
    if (url.searchParams.get('enable_http_compression') === '1') {
      const accept = String(req.headers['accept-encoding'] ?? '');
      const z = /\bgzip\b/.test(accept) ? zlib.createGzip() : /\bdeflate\b/.test(accept) ? zlib.createDeflate() : null;
      if (z) {
        res.setHeader('Content-Encoding', /\bgzip\b/.test(accept) ? 'gzip' : 'deflate');
        z.pipe(res);
        out = z;
      }
    }
  };
  try {
    for await (const chunk of stream) {
      if (!started) start();
      rows += chunk.numRows;
      bytes += chunk.numBytes;
      if (res.destroyed) throw new HttpError(394, 'QUERY_WAS_CANCELLED', 'the client went away');
      if (headOnly || chunk.numBytes === 0) continue;
      // The chunk's buffer is dropped as soon as it is written.
      await writable(out, res, chunk.raw());
    }
  } catch (err) {
    if (!started) throw err;
    if (!res.destroyed) await cut(out, res, formatException(err, version).body);
    res.destroy();
    throw err;
  }
  if (!started) start();
  await finish(out, res);
  return { rows, bytes };
}

/**
 * Writes the error text and leaves the answer unterminated (no final chunk),
 * so the client sees a broken answer, not a complete one with text at the end.
 */
function cut(out: NodeJS.WritableStream, res: http.ServerResponse, text: string): Promise<void> {
  return new Promise<void>((resolve) => {
    res.once('close', resolve);
    const flushed = () => res.write('', () => resolve());
    if (out === res) res.write(text, flushed);
    else {
      const z = out as zlib.Gzip;
      z.write(text);
      z.flush(flushed);
    }
  });
}

/** Ends `out`; resolves when it is flushed or the connection is gone (a gone client never flushes). */
function finish(out: NodeJS.WritableStream, res: http.ServerResponse): Promise<void> {
  if (res.destroyed) return Promise.resolve();
  return new Promise<void>((resolve) => {
    res.once('close', resolve);
    out.end(() => {
      res.removeListener('close', resolve);
      resolve();
    });
  });
}
