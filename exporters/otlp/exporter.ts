/**
 * The otlp exporter: OTLP/gRPC Export calls to `endpoint`, with the request
 * bytes the payload already has (lib/otlp-export/request.ts), gzip when
 * asked, static headers and a client authenticator's as metadata, and the
 * Collector's mapping of gRPC status codes to retry or give up
 * (lib/otlp-export/status.ts). The exporter helper around it queues
 * (persistently with `sending_queue.storage`) and retries.
 */
import * as grpc from '@grpc/grpc-js';
import type { Host } from '../../core/component.ts';
import type { Pusher, PushContext } from '../../core/exporter-helper.ts';
import type { AnyPayload, LogsPayload, TracesPayload } from '../../core/payload.ts';
import type { Signal } from '../../core/model.ts';
import { decodeExportResponse } from '../../core/otlp/response.ts';
import { resolveClientAuthenticator, type ClientAuthenticator } from '../../core/client-auth.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import { compressionOf } from '../../lib/otlp-export/config.ts';
import { loadClientTls } from '../../core/tls-client.ts';
import { DEDUP_HEADER, EXPORT_PATH, reportPartial, requestBytes } from '../../lib/otlp-export/request.ts';
import { grpcFailure, retryInfoDelayMs } from '../../lib/otlp-export/status.ts';
import type { OtlpExporterConfig } from './config.ts';

const raw = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);
const keep = (b: Buffer) => b;

/** host:port for grpc-js; a URL endpoint (the Collector accepts one) gives its host and port, and https turns TLS on. */
export function grpcTarget(endpoint: string): { target: string; tlsFromScheme: boolean | undefined } {
  const m = /^(https?):\/\/([^/]+)\/?$/.exec(endpoint);
  if (m) return { target: m[2]!, tlsFromScheme: m[1] === 'https' };
  return { target: endpoint, tlsFromScheme: undefined };
}

export class OtlpGrpcPusher implements Pusher {
  private client: grpc.Client | undefined;
  private auth: ClientAuthenticator | undefined;

  constructor(
    private readonly config: OtlpExporterConfig,
    private readonly log: Logger,
  ) {}

  async start(host: Host): Promise<void> {
    const c = this.config;
    if (c.auth) this.auth = resolveClientAuthenticator(host, c.auth.authenticator, 'auth.authenticator');
    const { target, tlsFromScheme } = grpcTarget(c.endpoint);
    const tls = tlsFromScheme === false ? null : await loadClientTls(c.tls);
    const creds = tls
      ? grpc.credentials.createSsl(tls.ca ?? null, tls.key ?? null, tls.cert ?? null, { rejectUnauthorized: tls.rejectUnauthorized })
      : grpc.credentials.createInsecure();
    const options: grpc.ChannelOptions = {
      // Our own limits decide what is sent; the server refuses what it will not take.
      'grpc.max_send_message_length': -1,
      'grpc.max_receive_message_length': 4 * 1024 * 1024,
    };
    if (tls?.servername) options['grpc.ssl_target_name_override'] = tls.servername;
    if (compressionOf(c) === 'gzip') options['grpc.default_compression_algorithm'] = 2;
    this.client = new grpc.Client(target, creds, options);
  }

  pushLogs(p: LogsPayload, ctx: PushContext): Promise<void> {
    return this.push('logs', p, ctx);
  }

  pushTraces(p: TracesPayload, ctx: PushContext): Promise<void> {
    return this.push('traces', p, ctx);
  }

  private metadata(token: string): grpc.Metadata {
    const md = new grpc.Metadata();
    md.set(DEDUP_HEADER, token);
    for (const [k, v] of Object.entries(this.config.headers)) md.set(k.toLowerCase(), v);
    if (this.auth) for (const [k, v] of Object.entries(this.auth.clientHeaders())) md.set(k, v);
    return md;
  }

  private push(signal: Signal, p: AnyPayload, ctx: PushContext): Promise<void> {
    const client = this.client;
    if (!client) return Promise.reject(new Error('otlp exporter not started'));
    const body = requestBytes(p);
    const endpoint = this.config.endpoint;
    return new Promise<void>((resolve, reject) => {
      const call = client.makeUnaryRequest(EXPORT_PATH[signal], raw, keep, body, this.metadata(ctx.dedupToken), {}, (err, res) => {
        ctx.signal.removeEventListener('abort', onAbort);
        if (err) {
          const details = err.metadata?.get('grpc-status-details-bin')[0];
          let delay = details instanceof Buffer ? retryInfoDelayMs(details) : undefined;
          const ra = err.metadata?.get('retry-after')[0];
          if (delay === undefined && typeof ra === 'string' && /^\d+$/.test(ra)) delay = Number(ra) * 1000;
          return reject(grpcFailure(err.code, err.details, delay, endpoint));
        }
        try {
          reportPartial(this.log, signal, endpoint, decodeExportResponse(signal, res ?? Buffer.alloc(0)));
        } catch (e) {
          // The data was accepted; a response we cannot read does not make it fail.
          this.log.warn('unreadable export response', { endpoint, error: e });
        }
        resolve();
      });
      const onAbort = () => call.cancel();
      if (ctx.signal.aborted) onAbort();
      else ctx.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  async shutdown(): Promise<void> {
    this.client?.close();
    this.client = undefined;
  }
}
