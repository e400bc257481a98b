/**
 * The loki receiver: Loki's push API on one HTTP listener.
 *   POST /loki/api/v1/push   application/x-protobuf (snappy block) or application/json (gzip/deflate optional)
 * 204 on success (Loki's answer); 400 malformed (with the reason); 404 other
 * paths; 405 not POST; 413 too large (also once decompressed, and more than
 * max_records_per_request entries); 415 other content types; 429/503 +
 * Retry-After when the pipeline or the in-flight bounds refuse.
 * The tenant (`X-Scope-OrgID`) rides in the payload's client metadata.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { receiverAuth, type Authenticated, type ReceiverAuth } from '../../core/auth.ts';
import { NO_METADATA, httpMetadata, peerIp, withAuth, type ClientInfo } from '../../core/client.ts';
import type { Component, CreateSettings, Host, NextConsumers } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { statusFor } from '../../core/errors.ts';
import { BodyError, closeIfUnread, mediaType, readBody } from '../../core/http-body.ts';
import type { LogsData } from '../../core/model.ts';
import { closeServer, serveHttp, type Server } from '../../core/net.ts';
import { Payload } from '../../core/payload.ts';
import { observedConsumer, type ObsConsumer } from '../../core/receiver-helper.ts';
import { loadTls } from '../../core/tls.ts';
import { SnappyTooLarge, snappyBlockDecode } from '../../lib/snappy-block.ts';
import type { LokiHttpConfig, LokiReceiverConfig } from './config.ts';
import { decodePushJson, decodePushProto, type PushOptions } from './push.ts';

export const PUSH_PATH = '/loki/api/v1/push';
const TENANT_HEADER = 'x-scope-orgid';

export class LokiReceiver implements Component {
  private server: Server | undefined;
  private readonly http: LokiHttpConfig;
  private readonly consumers: { proto: ObsConsumer; json: ObsConsumer };
  private readonly opts: PushOptions;
  private auth: ReceiverAuth | null = null;
  address = '';

  constructor(private readonly settings: CreateSettings<LokiReceiverConfig>, next: NextConsumers) {
    this.http = settings.config.protocols.http!;
    const max = this.http.max_records_per_request;
    this.consumers = { proto: observedConsumer(settings, next, 'http_proto', max), json: observedConsumer(settings, next, 'http_json', max) };
    this.opts = { useIncomingTimestamp: settings.config.use_incoming_timestamp };
  }

  async start(host?: Host): Promise<void> {
    this.auth = receiverAuth(host, this.http, 'protocols.http', this.settings, 'http');
    const tls = this.http.tls ? await loadTls(this.http.tls, 'protocols.http.tls') : null;
    const { server, address } = await serveHttp(this.http.endpoint, (req, res) => this.handle(req, res), this.settings.logger, 'Loki', tls, this.http);
    this.auth?.guardContinue(server);
    this.server = server;
    this.address = address;
  }

  /** The sender's address; all headers with include_metadata, else only the tenant header. */
  private client(req: IncomingMessage, authed: Authenticated | undefined): ClientInfo {
    let metadata = NO_METADATA;
    if (this.http.include_metadata) metadata = httpMetadata(req.headersDistinct);
    else {
      const tenant = req.headersDistinct[TENANT_HEADER];
      if (tenant) metadata = new Map([[TENANT_HEADER, tenant]]);
    }
    return withAuth({ address: peerIp(req.socket.remoteAddress), metadata }, authed);
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
    if (path !== PUSH_PATH) return reply(404, `unknown path ${path}: POST log streams to ${PUSH_PATH}`);
    if (req.method !== 'POST') return reply(405, `method ${req.method} not allowed: use POST`, { allow: 'POST' });
    const ct = mediaType(req.headers['content-type']);
    const proto = ct === 'application/x-protobuf' || ct === 'application/protobuf';
    if (!proto && ct !== 'application/json' && ct !== '') {
      return reply(415, `unsupported content type ${JSON.stringify(ct)}: use application/x-protobuf (snappy) or application/json`);
    }
    const limit = this.http.max_request_body_size;
    let body: Buffer;
    try {
      body = await readBody(req, limit);
    } catch (err) {
      if (err instanceof BodyError) return reply(err.status, err.message, err.headers);
      throw err;
    }
    let data: LogsData;
    try {
      data = proto ? decodePushProto(snappyBlockDecode(body, limit), this.opts) : decodePushJson(body, this.opts);
    } catch (err) {
      if (err instanceof SnappyTooLarge) return reply(413, err.message, { connection: 'close' });
      return reply(400, `cannot decode Loki push (${proto ? 'protobuf' : 'JSON'}): ${(err as Error).message}`);
    }
    try {
      await this.consumers[proto ? 'proto' : 'json'].logs(Payload.logs(data, this.client(req, authed)));
    } catch (err) {
      const st = statusFor(err);
      return reply(st.http, st.message, st.retryAfterSeconds ? { 'retry-after': String(st.retryAfterSeconds) } : {});
    }
    res.writeHead(204).end();
  }

  readonly shutdown = once(async () => {
    const s = this.server;
    this.server = undefined;
    if (s) await closeServer(s);
  });
}
