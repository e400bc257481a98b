/**
 * OTLP/HTTP: `POST /v1/logs` and `/v1/traces` with `application/x-protobuf`
 * or `application/json` bodies, optionally gzip/deflate-compressed. Responses
 * use the request's content type; failures carry a google.rpc.Status body.
 *
 * Status codes, as the OTLP spec and the Collector's otlpreceiver give them:
 * 200 accepted; 400 malformed body; 404 unknown path (and /v1/metrics, not
 * supported yet); 405 not POST; 413 body over `max_request_body_size`;
 * 415 other content types or content encodings; 429/503 + Retry-After when the pipeline refuses.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { GrpcCode, TooManyRecordsError, statusFor } from '../../core/errors.ts';
import { BodyError, closeIfUnread, mediaType, readBody } from '../../core/http-body.ts';
import { closeServer, serveHttp } from '../../core/net.ts';
import {
  decodeLogsJson,
  decodeTracesJson,
  encodeExportResponse,
  encodeExportResponseJson,
} from '../../core/otlp/index.ts';
import type { ObsConsumer } from '../../core/receiver-helper.ts';
import { refuseTooManyRecords } from './record-limit.ts';
import { Payload, type AnyPayload } from '../../core/payload.ts';
import { httpClient, withAuth } from '../../core/client.ts';
import { DEDUP_HEADER, Repeats, dedupTokenOf } from '../../core/repeats.ts';
import type { Authenticated, ReceiverAuth, RefusalBody } from '../../core/auth.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { HttpProtocolConfig } from './config.ts';
import { loadTls } from '../../core/tls.ts';
import { Cors } from '../../core/cors.ts';
import { GoogleRpcStatusTag } from '../../core/otlp/wire-fields.gen.ts';

type Encoding = 'proto' | 'json';

/** google.rpc.Status { code, message } (core/otlp/proto/google/rpc/status.proto). */
function encodeStatusProto(code: number, message: string): Buffer {
  const msg = Buffer.from(message, 'utf8');
  const parts: number[] = [];
  if (code) parts.push(GoogleRpcStatusTag.code, ...varint(code));
  parts.push(GoogleRpcStatusTag.message, ...varint(msg.length));
  return Buffer.concat([Buffer.from(parts), msg]);
}

function varint(n: number): number[] {
  const out: number[] = [];
  while (n > 0x7f) {
    out.push((n & 0x7f) | 0x80);
    n >>>= 7;
  }
  out.push(n);
  return out;
}

function contentEncoding(ct: string | undefined): Encoding | undefined {
  const base = mediaType(ct);
  if (base === 'application/x-protobuf' || base === 'application/protobuf') return 'proto';
  if (base === 'application/json') return 'json';
  return undefined;
}

export class OtlpHttpServer {
  private server: Server | undefined;
  address = '';

  constructor(
    private readonly cfg: HttpProtocolConfig,
    private readonly consumer: ObsConsumer,
    private readonly log: Logger,
    private readonly repeats: Repeats = new Repeats(),
  ) {
    this.cors = cfg.cors ? new Cors(cfg.cors) : null;
  }

  private readonly cors: Cors | null;

  private auth: ReceiverAuth | null = null;

  async start(auth: ReceiverAuth | null = null): Promise<void> {
    this.auth = auth;
    const tls = this.cfg.tls ? await loadTls(this.cfg.tls, 'protocols.http.tls') : null;
    const { server, address } = await serveHttp(this.cfg.endpoint, (req, res) => this.handle(req, res), this.log, 'OTLP HTTP', tls, this.cfg);
    auth?.guardContinue(server);
    this.server = server;
    this.address = address;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    if (this.cors?.handle(req, res)) return;
    let authed: Authenticated | undefined;
    if (this.auth && !(authed = await this.auth.http(req, res, this.refusalBody(req)))) return;
    const path = (req.url ?? '/').split('?')[0];
    const signal = path === this.cfg.logs_url_path ? 'logs' : path === this.cfg.traces_url_path ? 'traces' : undefined;
    const encoding = contentEncoding(req.headers['content-type']) ?? 'json';
    const reply = (status: number, code: number, message: string, headers: Record<string, string> = {}) => {
      const body = encoding === 'proto' ? encodeStatusProto(code, message) : JSON.stringify({ code, message });
      res.writeHead(status, { 'content-type': encoding === 'proto' ? 'application/x-protobuf' : 'application/json', ...closeIfUnread(req), ...headers });
      res.end(body);
      req.resume();
    };
    if (!signal) {
      const what = path === '/v1/metrics' ? 'metrics are not supported by trailhouse yet: send logs and traces' : `unknown path ${path}`;
      return reply(404, GrpcCode.UNIMPLEMENTED, what);
    }
    if (req.method !== 'POST') return reply(405, GrpcCode.UNIMPLEMENTED, `method ${req.method} not allowed: use POST`, { allow: 'POST' });
    const enc = contentEncoding(req.headers['content-type']);
    if (!enc) {
      return reply(415, GrpcCode.INVALID_ARGUMENT, `unsupported content type ${JSON.stringify(req.headers['content-type'] ?? '')}: use application/x-protobuf or application/json`);
    }
    let body: Buffer;
    try {
      body = await readBody(req, this.cfg.max_request_body_size);
    } catch (err) {
      if (err instanceof BodyError) {
        reply(err.status, err.status === 429 || err.status === 503 ? GrpcCode.RESOURCE_EXHAUSTED : GrpcCode.INVALID_ARGUMENT, err.message, err.headers);
        return;
      }
      throw err;
    }
    let data: AnyPayload;
    let repeatKey: string | undefined;
    try {
      const client = withAuth(httpClient(req, this.cfg.include_metadata), authed);
      const token = dedupTokenOf(req.headersDistinct[DEDUP_HEADER]);
      if (token !== undefined) repeatKey = Repeats.key(signal, client, token);
      if (enc === 'proto') {
        refuseTooManyRecords(body, signal, this.cfg.max_records_per_request);
        // Nothing downstream reads records: validate, count, pass the bytes on.
        data = Payload.fromProto(signal, body, this.consumer.bytesOnly[signal], client);
      } else {
        data = signal === 'logs' ? Payload.logs(decodeLogsJson(body), client) : Payload.traces(decodeTracesJson(body), client);
      }
    } catch (err) {
      return reply(err instanceof TooManyRecordsError ? 413 : 400, GrpcCode.INVALID_ARGUMENT, (err as Error).message);
    }
    try {
      await this.repeats.once(repeatKey, () => (data.isLogs() ? this.consumer.logs(data) : this.consumer.traces(data as Payload<'traces'>)));
    } catch (err) {
      const st = statusFor(err);
      const headers: Record<string, string> = st.retryAfterSeconds ? { 'retry-after': String(st.retryAfterSeconds) } : {};
      return reply(st.http, st.grpc, st.message, headers);
    }
    const out = enc === 'proto' ? encodeExportResponse(signal) : encodeExportResponseJson(signal);
    res.writeHead(200, { 'content-type': enc === 'proto' ? 'application/x-protobuf' : 'application/json' });
    res.end(out);
  }

  /** A refusal in the request's encoding, as every other OTLP/HTTP failure (google.rpc.Status). */
  private refusalBody(req: IncomingMessage): RefusalBody {
    const proto = contentEncoding(req.headers['content-type']) === 'proto';
    return (_status, code, message) =>
      proto ? { contentType: 'application/x-protobuf', body: encodeStatusProto(code, message) } : { contentType: 'application/json', body: JSON.stringify({ code, message }) };
  }

  async shutdown(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await closeServer(s);
  }
}
