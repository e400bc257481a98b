/**
 * The zipkin receiver: one HTTP listener for
 *   POST /api/v2/spans  JSON (the default) or application/x-protobuf (ListOfSpans)
 *   POST /api/v1/spans  JSON (the default) or application/x-thrift (list<Span>)
 * with optional gzip/deflate Content-Encoding. 202 Accepted on success (the
 * Zipkin API's answer); 400 malformed body (with the reason); 404 other paths;
 * 405 not POST; 413 over `max_request_body_size`; 415 other content types;
 * 429/503 + Retry-After when the pipeline refuses.
 */
import { httpClient, withAuth, type ClientInfo } from '../../core/client.ts';
import { receiverAuth, type Authenticated, type ReceiverAuth } from '../../core/auth.ts';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Component, CreateSettings, Host, NextConsumers } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { statusFor } from '../../core/errors.ts';
import { BodyError, closeIfUnread, mediaType, readBody } from '../../core/http-body.ts';

import { closeServer, serveHttp } from '../../core/net.ts';
import { observedConsumer, type ObsConsumer } from '../../core/receiver-helper.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { ZipkinReceiverConfig } from './config.ts';
import { decodeV1Json } from './v1-json.ts';
import { decodeV1Thrift } from './v1-thrift.ts';
import { zipkinV1ToTraces } from './v1-translate.ts';
import { decodeV2Json } from './v2-json.ts';
import { decodeV2Proto } from './v2-proto.ts';
import { zipkinV2ToProto, type V2Options } from './v2-translate.ts';
import type { ZSpan } from './model.ts';
import { Payload, type TracesPayload } from '../../core/payload.ts';
import { loadTls } from '../../core/tls.ts';

type Format = 'v1_json' | 'v1_thrift' | 'v2_json' | 'v2_proto';

/** Transport labels, as the Collector's zipkinreceiver reports them. */
const TRANSPORT: Record<Format, string> = {
  v1_json: 'http_v1_json',
  v1_thrift: 'http_v1_thrift',
  v2_json: 'http_v2_json',
  v2_proto: 'http_v2_proto',
};

const JSON_TYPES = new Set(['', 'application/json', 'text/plain']);

function formatFor(version: 1 | 2, ct: string): Format | undefined {
  if (JSON_TYPES.has(ct)) return version === 1 ? 'v1_json' : 'v2_json';
  if (version === 1 && (ct === 'application/x-thrift' || ct === 'application/vnd.apache.thrift.binary')) return 'v1_thrift';
  if (version === 2 && (ct === 'application/x-protobuf' || ct === 'application/protobuf')) return 'v2_proto';
  return undefined;
}

function v2Payload(spans: ZSpan[], opts: V2Options, client: ClientInfo): TracesPayload {
  return Payload.ofBytes('traces', [zipkinV2ToProto(spans, opts)], spans.length, client);
}

export class ZipkinReceiver implements Component {
  private server: Server | undefined;
  private readonly consumers: Record<Format, ObsConsumer>;
  private readonly cfg: ZipkinReceiverConfig;
  private readonly log: Logger;
  private readonly settings: CreateSettings<ZipkinReceiverConfig>;
  private auth: ReceiverAuth | null = null;
  address = '';

  constructor(settings: CreateSettings<ZipkinReceiverConfig>, next: NextConsumers) {
    this.cfg = settings.config;
    this.log = settings.logger;
    this.settings = settings;
    const c = (f: Format) => observedConsumer(settings, next, TRANSPORT[f], settings.config.max_records_per_request);
    this.consumers = { v1_json: c('v1_json'), v1_thrift: c('v1_thrift'), v2_json: c('v2_json'), v2_proto: c('v2_proto') };
  }

  async start(host?: Host): Promise<void> {
    this.auth = receiverAuth(host, this.cfg, '', this.settings, 'http');
    const tls = this.cfg.tls ? await loadTls(this.cfg.tls, 'tls') : null;
    const { server, address } = await serveHttp(this.cfg.endpoint, (req, res) => this.handle(req, res), this.log, 'Zipkin', tls, this.cfg);
    this.auth?.guardContinue(server);
    this.server = server;
    this.address = address;
  }

  private decode(format: Format, body: Buffer, client: ClientInfo): TracesPayload {
    const opts = { parseStringTags: this.cfg.parse_string_tags };
    switch (format) {
      // v2 translates straight to OTLP protobuf; records are decoded only if a later stage reads them.
      case 'v2_json': return v2Payload(decodeV2Json(body), opts, client);
      case 'v2_proto': return v2Payload(decodeV2Proto(body), opts, client);
      case 'v1_json': return Payload.traces(zipkinV1ToTraces(decodeV1Json(body, opts.parseStringTags)), client);
      case 'v1_thrift': return Payload.traces(zipkinV1ToTraces(decodeV1Thrift(body)), client);
    }
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
    const version = path === '/api/v2/spans' ? 2 : path === '/api/v1/spans' ? 1 : undefined;
    if (!version) return reply(404, `unknown path ${path}: POST spans to /api/v2/spans or /api/v1/spans`);
    if (req.method !== 'POST') return reply(405, `method ${req.method} not allowed: use POST`, { allow: 'POST' });
    const ct = mediaType(req.headers['content-type']);
    const format = formatFor(version, ct);
    if (!format) {
      const want = version === 2 ? 'application/json or application/x-protobuf' : 'application/json or application/x-thrift';
      return reply(415, `unsupported content type ${JSON.stringify(ct)} for /api/v${version}/spans: use ${want}`);
    }
    let body: Buffer;
    try {
      body = await readBody(req, this.cfg.max_request_body_size);
    } catch (err) {
      if (err instanceof BodyError) return reply(err.status, err.message, err.headers);
      throw err;
    }
    let data: TracesPayload;
    try {
      data = this.decode(format, body, withAuth(httpClient(req, this.cfg.include_metadata), authed));
    } catch (err) {
      return reply(400, `cannot decode zipkin ${format.replace('_', ' ')} spans: ${(err as Error).message}`);
    }
    try {
      await this.consumers[format].traces(data);
    } catch (err) {
      const st = statusFor(err);
      return reply(st.http, st.message, st.retryAfterSeconds ? { 'retry-after': String(st.retryAfterSeconds) } : {});
    }
    res.writeHead(202).end();
  }

  readonly shutdown = once(async () => {
    const s = this.server;
    this.server = undefined;
    if (s) await closeServer(s);
  });
}
