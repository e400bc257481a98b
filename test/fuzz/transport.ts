/**
 * Sending one fuzz input: HTTP (with odd framing chosen by the case's PRNG:
 * content types, encodings, a bounded gzip bomb, methods, paths), gRPC (raw
 * bytes through grpc-js with a pass-through serializer) and UDP. Each answer
 * is an Outcome the oracle judges.
 */
import http from 'node:http';
import { deflateSync, gzipSync } from 'node:zlib';
import * as grpc from '@grpc/grpc-js';
import type { Prng } from './prng.ts';

export type Outcome =
  | { kind: 'http'; status: number; body: string }
  | { kind: 'grpc'; code: number; details: string }
  | { kind: 'udp'; refused: boolean };

export interface HttpFormat {
  path: string;
  contentType: string;
  /** Other spellings of the same media type the receiver should accept. */
  altTypes: string[];
  /** Media types of other formats (right bytes, wrong label). */
  wrongTypes: string[];
}

export interface Framing {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer;
  note: string;
}

/** The decompressed size of the bomb: over every fuzzed receiver's body limit (FUZZ_BODY_LIMIT). */
export const FUZZ_BODY_LIMIT = 4 * 1024 * 1024;
let bomb: Buffer | undefined;

export function frame(rng: Prng, f: HttpFormat, body: Buffer): Framing {
  const headers: Record<string, string> = {};
  const notes: string[] = [];
  const ct = rng.int(100);
  if (ct < 80) headers['content-type'] = f.contentType;
  else if (ct < 88) headers['content-type'] = rng.pick(f.altTypes);
  else if (ct < 94) headers['content-type'] = rng.pick(f.wrongTypes);
  else if (ct < 97) headers['content-type'] = rng.pick(['', 'a/b/c', ';', 'application/json;;;', 'x'.repeat(4000), 'application/\u00ff']);
  else notes.push('no content-type');
  if (headers['content-type'] !== undefined && headers['content-type'] !== f.contentType) notes.push(`content-type ${JSON.stringify(headers['content-type'].slice(0, 40))}`);

  const enc = rng.int(100);
  if (enc < 72) {
    // identity
  } else if (enc < 82) {
    headers['content-encoding'] = 'gzip';
    body = gzipSync(body);
  } else if (enc < 86) {
    headers['content-encoding'] = rng.pick(['deflate', 'zlib']);
    body = deflateSync(body);
  } else if (enc < 90) {
    headers['content-encoding'] = 'gzip'; // but the body is not compressed
  } else if (enc < 93) {
    headers['content-encoding'] = 'gzip';
    const z = gzipSync(body);
    body = z.subarray(0, rng.int(z.length));
  } else if (enc < 96) {
    headers['content-encoding'] = rng.pick(['br', 'compress', 'gzip, deflate', 'GZIP', 'identity', 'x-gzip', ' gzip ', 'zstd']);
    if (/gzip/i.test(headers['content-encoding']!) && headers['content-encoding'] !== 'gzip, deflate') body = gzipSync(body);
  } else if (enc < 98) {
    headers['content-encoding'] = 'gzip';
    bomb ??= gzipSync(Buffer.alloc(2 * FUZZ_BODY_LIMIT));
    body = bomb;
    notes.push('gzip bomb');
  } else {
    headers['content-encoding'] = 'gzip';
    body = gzipSync(gzipSync(body)); // compressed twice, declared once
  }
  if (headers['content-encoding']) notes.push(`content-encoding ${headers['content-encoding']}`);

  let method = 'POST';
  let path = f.path;
  const m = rng.int(100);
  if (m < 2) method = rng.pick(['GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD']);
  else if (m < 4) path = rng.pick([f.path + '/', f.path + '?x=1', f.path.toUpperCase(), f.path + '%00', '/' + f.path, f.path + '#frag']);
  if (method !== 'POST') notes.push(`method ${method}`);
  if (path !== f.path) notes.push(`path ${path}`);
  return { method, path, headers, body, note: notes.join(', ') };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

export function httpSend(address: string, fr: Framing): Promise<Outcome> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve, reject) => {
    // A GET/HEAD goes without a body (and without a length the server would wait for).
    const bodyless = fr.method === 'GET' || fr.method === 'HEAD';
    const headers = bodyless ? fr.headers : { ...fr.headers, 'content-length': String(fr.body.length) };
    const req = http.request({ host, port, method: fr.method, path: fr.path, headers, agent }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ kind: 'http', status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8').slice(0, 300) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(bodyless ? undefined : fr.body);
  });
}

const passThrough = (b: Buffer) => b;

export function grpcSend(client: grpc.Client, method: string, body: Buffer, timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    client.makeUnaryRequest(method, passThrough, passThrough, body, { deadline: Date.now() + timeoutMs }, (err) =>
      resolve({ kind: 'grpc', code: err ? err.code : grpc.status.OK, details: err?.details ?? '' }),
    );
  });
}
