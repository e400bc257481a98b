/**
 * Jaeger thrift over HTTP: `POST /api/traces` with a TBinaryProtocol
 * `jaeger.Batch` body (`application/x-thrift` or
 * `application/vnd.apache.thrift.binary`), as jaeger-client's HTTPSender and
 * the Jaeger collector speak it. 202 Accepted on success (the Jaeger
 * collector's answer); 400 malformed body; 404 other paths; 405 not POST;
 * 413 body over `max_request_body_size`; 415 other content types; 429/503 +
 * Retry-After when the pipeline refuses.
 */
import { httpClient, withAuth } from '../../core/client.ts';
import type { Authenticated, ReceiverAuth } from '../../core/auth.ts';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { statusFor } from '../../core/errors.ts';
import { BodyError, closeIfUnread, mediaType, readBody } from '../../core/http-body.ts';
import { closeServer, serveHttp } from '../../core/net.ts';
import type { ObsConsumer } from '../../core/receiver-helper.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import { BinaryReader } from '../../core/thrift/index.ts';
import type { ThriftHttpConfig } from './config.ts';
import { readBatchBody } from './thrift-decode.ts';
import { jaegerPayload } from './translate.ts';
import { loadTls } from '../../core/tls.ts';

const THRIFT_TYPES = new Set(['application/x-thrift', 'application/vnd.apache.thrift.binary']);

export class JaegerHttpServer {
  private server: Server | undefined;
  address = '';

  constructor(
    private readonly cfg: ThriftHttpConfig,
    private readonly consumer: ObsConsumer,
    private readonly log: Logger,
  ) {}

  private auth: ReceiverAuth | null = null;

  async start(auth: ReceiverAuth | null = null): Promise<void> {
    this.auth = auth;
    const tls = this.cfg.tls ? await loadTls(this.cfg.tls, 'protocols.thrift_http.tls') : null;
    const { server, address } = await serveHttp(this.cfg.endpoint, (req, res) => this.handle(req, res), this.log, 'Jaeger thrift HTTP', tls, this.cfg);
    auth?.guardContinue(server);
    this.server = server;
    this.address = address;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, message: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', ...closeIfUnread(req), ...headers });
      res.end(message + '\n');
      req.resume();
    };
    let authed: Authenticated | undefined;
    if (this.auth && !(authed = await this.auth.http(req, res))) return;
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/api/traces') return reply(404, `unknown path ${path}: POST jaeger thrift to /api/traces`);
    if (req.method !== 'POST') return reply(405, `method ${req.method} not allowed: use POST`, { allow: 'POST' });
    const ct = mediaType(req.headers['content-type']);
    if (!THRIFT_TYPES.has(ct)) {
      return reply(415, `unsupported content type ${JSON.stringify(ct)}: use application/x-thrift or application/vnd.apache.thrift.binary`);
    }
    let body: Buffer;
    try {
      body = await readBody(req, this.cfg.max_request_body_size);
    } catch (err) {
      if (err instanceof BodyError) return reply(err.status, err.message, err.headers);
      throw err;
    }
    let data;
    try {
      data = jaegerPayload([readBatchBody(new BinaryReader(body))], withAuth(httpClient(req, this.cfg.include_metadata), authed));
    } catch (err) {
      return reply(400, `unable to process request body: ${(err as Error).message}`);
    }
    try {
      await this.consumer.traces(data);
    } catch (err) {
      const st = statusFor(err);
      return reply(st.http, st.message, st.retryAfterSeconds ? { 'retry-after': String(st.retryAfterSeconds) } : {});
    }
    res.writeHead(202).end();
  }

  async shutdown(): Promise<void> {
    const s = this.server;
    this.server = undefined;
    if (s) await closeServer(s);
  }
}
