/**
 * Jaeger gRPC: `jaeger.api_v2.CollectorService/PostSpans` over
 * @grpc/grpc-js. The request arrives as raw bytes and is decoded by our own
 * api_v2 decoder inside the handler, so bad protobuf is INVALID_ARGUMENT with
 * the reason, and a pipeline refusal is UNAVAILABLE / RESOURCE_EXHAUSTED.
 */
import * as grpc from '@grpc/grpc-js';
import { GrpcCode, statusFor } from '../../core/errors.ts';
import { parseEndpoint } from '../../core/net.ts';
import type { ObsConsumer } from '../../core/receiver-helper.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { GrpcConfig } from './config.ts';
import { decodePostSpansRequest } from './proto-decode.ts';
import { jaegerToTraces } from './translate.ts';

export const POST_SPANS = '/jaeger.api_v2.CollectorService/PostSpans';

const raw = (b: Buffer) => b;
const EMPTY_RESPONSE = Buffer.alloc(0); // PostSpansResponse has no fields

const method: grpc.MethodDefinition<Buffer, Buffer> = {
  path: POST_SPANS,
  requestStream: false,
  responseStream: false,
  requestSerialize: raw,
  requestDeserialize: raw,
  responseSerialize: raw,
  responseDeserialize: raw,
};

export class JaegerGrpcServer {
  private server: grpc.Server | undefined;
  address = '';

  constructor(
    private readonly cfg: GrpcConfig,
    private readonly consumer: ObsConsumer,
    private readonly log: Logger,
  ) {}

  private readonly postSpans: grpc.handleUnaryCall<Buffer, Buffer> = (call, callback) => {
    let data;
    try {
      data = jaegerToTraces([decodePostSpansRequest(call.request)]);
    } catch (err) {
      callback({ code: GrpcCode.INVALID_ARGUMENT, details: `cannot decode PostSpansRequest: ${(err as Error).message}` });
      return;
    }
    this.consumer.traces(data).then(
      () => callback(null, EMPTY_RESPONSE),
      (err: unknown) => {
        const st = statusFor(err);
        const md = new grpc.Metadata();
        if (st.retryAfterSeconds) md.set('retry-after', String(st.retryAfterSeconds));
        callback({ code: st.grpc, details: st.message, metadata: md });
      },
    );
  };

  async start(): Promise<void> {
    const server = new grpc.Server({ 'grpc.max_receive_message_length': this.cfg.max_recv_msg_size_mib * 1024 * 1024 });
    server.addService({ PostSpans: method }, { PostSpans: this.postSpans });
    const { host, port } = parseEndpoint(this.cfg.endpoint);
    const bound = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(new Error(`cannot listen on ${this.cfg.endpoint}: ${err.message}`)) : resolve(p),
      ),
    );
    this.server = server;
    this.address = `${host}:${bound}`;
    this.log.info('Jaeger gRPC receiver listening', { address: this.address });
  }

  /** Stops taking calls and waits (bounded) for those in flight. */
  async shutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        server.forceShutdown();
        resolve();
      }, 10_000);
      server.tryShutdown(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}
