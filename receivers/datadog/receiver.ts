/**
 * The datadog receiver: the Datadog logs intake on one HTTP listener.
 *   POST /api/v2/logs   → 202 {}   (the Agent with use_http, the API clients' submitLog)
 *   POST /v1/input      → 200 {}   (the older HTTP intake)
 * JSON (an array of logs or one log), or text/plain (one log per line);
 * gzip/deflate bodies. `DD-API-KEY` is checked against `api_keys` when set
 * (401 otherwise); the key's name is the sender in client info, and the key
 * itself never rides on with the payload. Other answers as every receiver:
 * 400 malformed (with the reason), 404, 405, 413, 415, 429/503 + Retry-After.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ReceiverAuth, receiverAuth, type Authenticated } from '../../core/auth.ts';
import { httpClient, withAuth, type ClientInfo } from '../../core/client.ts';
import type { Component, CreateSettings, Host, NextConsumers } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { statusFor } from '../../core/errors.ts';
import { BodyError, closeIfUnread, mediaType, readBody } from '../../core/http-body.ts';
import type { LogsData } from '../../core/model.ts';
import { closeServer, serveHttp, type Server } from '../../core/net.ts';
import { Payload } from '../../core/payload.ts';
import { observedConsumer, type ObsConsumer } from '../../core/receiver-helper.ts';
import { loadTls } from '../../core/tls.ts';
import { ZstdTooLarge, zstdDecodeBounded } from '../../lib/zstd-bounded.ts';
import { API_KEY_HEADER, apiKeyAuthenticator } from './api-keys.ts';
import type { DatadogReceiverConfig } from './config.ts';
import { decodeIntake, type IntakeDefaults } from './translate.ts';

const ROUTES: Record<string, { status: number; transport: string }> = {
  '/api/v2/logs': { status: 202, transport: 'http_v2_logs' },
  '/v1/input': { status: 200, transport: 'http_v1_input' },
};

const QUERY_FIELDS = ['ddsource', 'ddtags', 'service', 'hostname'] as const;

export class DatadogReceiver implements Component {
  private server: Server | undefined;
  private readonly cfg: DatadogReceiverConfig;
  private readonly consumers: Map<string, ObsConsumer>;
  private auth: ReceiverAuth | null = null;
  address = '';

  constructor(private readonly settings: CreateSettings<DatadogReceiverConfig>, next: NextConsumers) {
    this.cfg = settings.config;
    this.consumers = new Map(Object.values(ROUTES).map((r) => [r.transport, observedConsumer(settings, next, r.transport, this.cfg.max_records_per_request)]));
  }

  async start(host?: Host): Promise<void> {
    const { settings, cfg } = this;
    this.auth = cfg.api_keys.length
      ? new ReceiverAuth(`${settings.id}/api_keys`, apiKeyAuthenticator(cfg.api_keys), settings.id, 'http', settings.metrics, settings.logger)
      : receiverAuth(host, cfg, '', settings, 'http');
    const tls = cfg.tls ? await loadTls(cfg.tls, 'tls') : null;
    const { server, address } = await serveHttp(cfg.endpoint, (req, res) => this.handle(req, res), settings.logger, 'Datadog', tls, cfg);
    this.auth?.guardContinue(server);
    this.server = server;
    this.address = address;
  }

  private client(req: IncomingMessage, authed: Authenticated | undefined): ClientInfo {
    const info = withAuth(httpClient(req, this.cfg.include_metadata), authed);
    if (!info.metadata.has(API_KEY_HEADER)) return info;
    // Without api_keys the key is not checked, and still never kept.
    const metadata = new Map(info.metadata);
    metadata.delete(API_KEY_HEADER);
    return { ...info, metadata };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const reply = (status: number, message: string, headers: Record<string, string> = {}) => {
      res.writeHead(status, { 'content-type': 'application/json', ...closeIfUnread(req), ...headers });
      res.end(JSON.stringify({ errors: [{ status: String(status), title: message }] }) + '\n');
      req.resume();
    };
    let authed: Authenticated | undefined;
    if (this.auth && !(authed = await this.auth.http(req, res))) return;
    const url = req.url ?? '/';
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const route = ROUTES[path];
    if (!route) {
      // Never echo /v1/input/<key>: the path holds a credential.
      if (path.startsWith('/v1/input/')) return reply(404, 'the API key in the path is not supported: send it in the DD-API-KEY header to /v1/input');
      return reply(404, `unknown path ${path.slice(0, 100)}: POST logs to /api/v2/logs or /v1/input`);
    }
    if (req.method !== 'POST') return reply(405, `method ${req.method} not allowed: use POST`, { allow: 'POST' });
    const ct = mediaType(req.headers['content-type']);
    const text = ct === 'text/plain';
    if (!text && ct !== 'application/json' && ct !== '') return reply(415, `unsupported content type ${JSON.stringify(ct)}: use application/json or text/plain`);
    // Recent Agents compress logs with zstd (logs_config.compression_kind); readBody knows gzip and deflate only.
    const zstd = (req.headers['content-encoding'] ?? '').trim().toLowerCase() === 'zstd';
    if (zstd) delete req.headers['content-encoding'];
    const limit = this.cfg.max_request_body_size;
    let body: Buffer;
    try {
      body = await readBody(req, limit);
      if (zstd) body = zstdDecodeBounded(body, limit);
    } catch (err) {
      if (err instanceof BodyError) return reply(err.status, err.message, err.headers);
      if (err instanceof ZstdTooLarge) return reply(413, err.message, { connection: 'close' });
      if (zstd) return reply(400, (err as Error).message);
      throw err;
    }
    let data: LogsData;
    try {
      data = decodeIntake(body, q < 0 ? {} : queryDefaults(url.slice(q + 1)), text);
    } catch (err) {
      return reply(400, `cannot decode Datadog logs: ${(err as Error).message}`);
    }
    try {
      await this.consumers.get(route.transport)!.logs(Payload.logs(data, this.client(req, authed)));
    } catch (err) {
      const st = statusFor(err);
      return reply(st.http, st.message, st.retryAfterSeconds ? { 'retry-after': String(st.retryAfterSeconds) } : {});
    }
    res.writeHead(route.status, { 'content-type': 'application/json' }).end('{}');
  }

  readonly shutdown = once(async () => {
    const s = this.server;
    this.server = undefined;
    if (s) await closeServer(s);
  });
}

function queryDefaults(query: string): IntakeDefaults {
  const p = new URLSearchParams(query);
  const d: IntakeDefaults = {};
  for (const k of QUERY_FIELDS) {
    const v = p.get(k);
    if (v) d[k] = v;
  }
  return d;
}
