/**
 * The otlphttp exporter: POSTs OTLP/HTTP Export requests (protobuf, the
 * bytes the payload already has, or JSON), gzip when asked, static headers
 * and a client authenticator's, and the Collector's mapping of HTTP status
 * to retry (429/502/503/504, honouring Retry-After) or give up
 * (lib/otlp-export/status.ts). Partial success is read from the response body.
 */
import * as http from 'node:http';
import * as https from 'node:https';
import { gzip } from 'node:zlib';
import { promisify } from 'node:util';
import type { Host } from '../../core/component.ts';
import type { Pusher, PushContext } from '../../core/exporter-helper.ts';
import type { AnyPayload, LogsPayload, TracesPayload } from '../../core/payload.ts';
import type { LogsData, Signal, TracesData } from '../../core/model.ts';
import { decodeExportResponse, decodeExportResponseJson } from '../../core/otlp/response.ts';
import { encodeLogsJson } from '../../core/otlp/logs-json.ts';
import { encodeTracesJson } from '../../core/otlp/traces-json.ts';
import { resolveClientAuthenticator, type ClientAuthenticator } from '../../core/client-auth.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import { compressionOf } from '../../lib/otlp-export/config.ts';
import { loadClientTls } from '../../core/tls-client.ts';
import { DEDUP_HEADER, reportPartial, requestBytes } from '../../lib/otlp-export/request.ts';
import { httpFailure } from '../../lib/otlp-export/status.ts';
import { urlFor, type OtlpHttpExporterConfig } from './config.ts';

/** Largest response body read (a partial-success message or an error text). */
const MAX_RESPONSE = 64 * 1024;
const gzipAsync = promisify(gzip);

export class OtlpHttpPusher implements Pusher {
  private auth: ClientAuthenticator | undefined;
  private agents: { http: http.Agent; https: https.Agent | undefined } | undefined;

  constructor(
    private readonly config: OtlpHttpExporterConfig,
    private readonly log: Logger,
  ) {}

  async start(host: Host): Promise<void> {
    const c = this.config;
    if (c.auth) this.auth = resolveClientAuthenticator(host, c.auth.authenticator, 'auth.authenticator');
    const tls = await loadClientTls(c.tls);
    this.agents = {
      http: new http.Agent({ keepAlive: true }),
      https: new https.Agent({ keepAlive: true, ...tls }),
    };
  }

  pushLogs(p: LogsPayload, ctx: PushContext): Promise<void> {
    return this.push('logs', p, ctx);
  }

  pushTraces(p: TracesPayload, ctx: PushContext): Promise<void> {
    return this.push('traces', p, ctx);
  }

  private async push(signal: Signal, p: AnyPayload, ctx: PushContext): Promise<void> {
    const agents = this.agents;
    if (!agents) throw new Error('otlphttp exporter not started');
    const json = this.config.encoding === 'json';
    let body: Uint8Array = json
      ? Buffer.from(signal === 'logs' ? encodeLogsJson(p.records() as LogsData) : encodeTracesJson(p.records() as TracesData))
      : requestBytes(p);
    const headers: Record<string, string> = { ...this.config.headers, [DEDUP_HEADER]: ctx.dedupToken, 'content-type': json ? 'application/json' : 'application/x-protobuf' };
    if (compressionOf(this.config) === 'gzip') {
      // Off the event loop: a large batch would stall every other stage meanwhile.
      body = await gzipAsync(body);
      headers['content-encoding'] = 'gzip';
    }
    if (this.auth) Object.assign(headers, this.auth.clientHeaders());
    headers['content-length'] = String(body.byteLength);
    const url = new URL(urlFor(this.config, signal));
    const secure = url.protocol === 'https:';
    const mod = secure ? https : http;
    return new Promise<void>((resolve, reject) => {
      const req = mod.request(url, { method: 'POST', headers, agent: secure ? agents.https : agents.http, signal: ctx.signal }, (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size <= MAX_RESPONSE) chunks.push(c);
        });
        res.on('error', reject);
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          const text = Buffer.concat(chunks);
          if (status < 200 || status > 299) {
            const retryAfter = res.headers['retry-after'];
            return reject(httpFailure(status, text.toString('utf8'), Array.isArray(retryAfter) ? retryAfter[0] : retryAfter, url.href));
          }
          if (text.length > 0) {
            try {
              const ct = String(res.headers['content-type'] ?? '');
              reportPartial(this.log, signal, url.href, ct.includes('json') ? decodeExportResponseJson(signal, text) : decodeExportResponse(signal, text));
            } catch (e) {
              this.log.warn('unreadable export response', { endpoint: url.href, error: e });
            }
          }
          resolve();
        });
      });
      req.on('error', reject);
      req.end(body);
    });
  }

  async shutdown(): Promise<void> {
    this.agents?.http.destroy();
    this.agents?.https?.destroy();
    this.agents = undefined;
  }
}
