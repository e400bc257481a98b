/**
 * Jaeger gRPC: `jaeger.api_v2.CollectorService/PostSpans` over
 * @grpc/grpc-js. The request arrives as raw bytes and is decoded by our own
 * api_v2 decoder inside the handler, so bad protobuf is INVALID_ARGUMENT with
 * the reason, and a pipeline refusal is UNAVAILABLE / RESOURCE_EXHAUSTED.
 */
import { grpcClient, withAuth } from '../../core/client.ts';
import { grpcAuthOf, type ReceiverAuth } from '../../core/auth.ts';
import { grpcServerOptions } from '../../core/grpc-server-config.ts';
import * as grpc from '@grpc/grpc-js';
import { GrpcCode } from '../../core/errors.ts';
import { bindGrpc, grpcError, rawUnaryMethod, stopGrpc } from '../../core/grpc.ts';
import type { ObsConsumer } from '../../core/receiver-helper.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { GrpcConfig } from './config.ts';
import { decodePostSpansRequest } from './proto-decode.ts';
import { jaegerPayload } from './translate.ts';
import { loadTls } from '../../core/tls.ts';

export const POST_SPANS = '/jaeger.api_v2.CollectorService/PostSpans';

const EMPTY_RESPONSE = new Uint8Array(0); // PostSpansResponse has no fields

export class JaegerGrpcServer {
  private server: grpc.Server | undefined;
  address = '';

  constructor(
    private readonly cfg: GrpcConfig,
    private readonly consumer: ObsConsumer,
    private readonly log: Logger,
  ) {}

  private readonly postSpans: grpc.handleUnaryCall<Buffer, Uint8Array> = (call, callback) => {
    let data;
    try {
      data = jaegerPayload([decodePostSpansRequest(call.request)], withAuth(grpcClient(call, this.cfg.include_metadata), grpcAuthOf(call.metadata)));
    } catch (err) {
      callback({ code: GrpcCode.INVALID_ARGUMENT, details: `cannot decode PostSpansRequest: ${(err as Error).message}` });
      return;
    }
    this.consumer.traces(data).then(
      () => callback(null, EMPTY_RESPONSE),
      (err: unknown) => callback(grpcError(err)),
    );
  };

  async start(auth: ReceiverAuth | null = null): Promise<void> {
    const server = new grpc.Server({
      'grpc.max_receive_message_length': this.cfg.max_recv_msg_size_mib * 1024 * 1024,
      ...grpcServerOptions(this.cfg),
      // Authentication runs on the call's metadata, before its message is read.
      ...(auth ? { interceptors: [auth.grpcInterceptor()] } : {}),
    });
    server.addService({ PostSpans: rawUnaryMethod(POST_SPANS) }, { PostSpans: this.postSpans });
    const tls = this.cfg.tls ? await loadTls(this.cfg.tls, 'protocols.grpc.tls') : null;
    this.address = await bindGrpc(server, this.cfg.endpoint, tls, this.cfg);
    this.server = server;
    this.log.info('Jaeger gRPC receiver listening', { address: this.address });
  }

  /** Stops taking calls and waits (bounded) for those in flight. */
  async shutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await stopGrpc(server);
  }
}
