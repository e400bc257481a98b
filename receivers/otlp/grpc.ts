/**
 * OTLP/gRPC: the `opentelemetry.proto.collector.{logs,trace}.v1` Export
 * services over @grpc/grpc-js. Requests arrive as raw bytes and are decoded
 * by our own codec inside the handler, so a malformed message becomes
 * INVALID_ARGUMENT with a clear reason rather than a transport error. The
 * metrics service answers UNIMPLEMENTED: metrics are not supported yet.
 */
import { grpcServerOptions } from '../../core/grpc-server-config.ts';
import * as grpc from '@grpc/grpc-js';
import { GrpcCode } from '../../core/errors.ts';
import { bindGrpc, grpcError, rawUnaryMethod, stopGrpc } from '../../core/grpc.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { ObsConsumer } from '../../core/receiver-helper.ts';
import { encodeExportResponse } from '../../core/otlp/index.ts';
import type { GrpcProtocolConfig } from './config.ts';
import { Payload } from '../../core/payload.ts';
import { grpcClient, withAuth } from '../../core/client.ts';
import { DEDUP_HEADER, Repeats, dedupTokenOf } from '../../core/repeats.ts';
import { grpcAuthOf, type ReceiverAuth } from '../../core/auth.ts';
import { refuseTooManyRecords } from './record-limit.ts';
import { loadTls } from '../../core/tls.ts';

export const LOGS_EXPORT = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';
export const TRACES_EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
export const METRICS_EXPORT = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';

function handler<S extends 'logs' | 'traces'>(
  signal: S,
  lazy: boolean,
  consume: (data: Payload<S>) => Promise<void>,
  includeMetadata: boolean,
  maxRecords: number,
  repeats: Repeats,
): grpc.handleUnaryCall<Buffer, Uint8Array> {
  return (call, callback) => {
    let data: Payload<S>;
    let repeatKey: string | undefined;
    try {
      refuseTooManyRecords(call.request, signal, maxRecords);
      const client = withAuth(grpcClient(call, includeMetadata), grpcAuthOf(call.metadata));
      const token = dedupTokenOf(call.metadata.get(DEDUP_HEADER));
      if (token !== undefined) repeatKey = Repeats.key(signal, client, token);
      data = Payload.fromProto(signal, call.request, lazy, client);
    } catch (err) {
      callback({ code: GrpcCode.INVALID_ARGUMENT, details: (err as Error).message });
      return;
    }
    repeats.once(repeatKey, () => consume(data)).then(
      () => callback(null, encodeExportResponse(signal)),
      (err: unknown) => callback(grpcError(err)),
    );
  };
}

export class OtlpGrpcServer {
  private server: grpc.Server | undefined;
  address = '';

  constructor(
    private readonly cfg: GrpcProtocolConfig,
    private readonly consumer: ObsConsumer,
    private readonly log: Logger,
    private readonly repeats: Repeats = new Repeats(),
  ) {}

  async start(auth: ReceiverAuth | null = null): Promise<void> {
    const server = new grpc.Server({
      'grpc.max_receive_message_length': this.cfg.max_recv_msg_size_mib * 1024 * 1024,
      ...grpcServerOptions(this.cfg),
      // Authentication runs on the call's metadata, before its message is read.
      ...(auth ? { interceptors: [auth.grpcInterceptor()] } : {}),
    });
    server.addService(
      { Export: rawUnaryMethod(LOGS_EXPORT) },
      { Export: handler('logs', this.consumer.bytesOnly.logs, (d) => this.consumer.logs(d), this.cfg.include_metadata, this.cfg.max_records_per_request, this.repeats) },
    );
    server.addService(
      { Export: rawUnaryMethod(TRACES_EXPORT) },
      { Export: handler('traces', this.consumer.bytesOnly.traces, (d) => this.consumer.traces(d), this.cfg.include_metadata, this.cfg.max_records_per_request, this.repeats) },
    );
    server.addService({ Export: rawUnaryMethod(METRICS_EXPORT) }, {
      Export: (_call: unknown, callback: grpc.sendUnaryData<Uint8Array>) =>
        callback({ code: GrpcCode.UNIMPLEMENTED, details: 'metrics are not supported by trailhouse yet: send logs and traces' }),
    });
    const tls = this.cfg.tls ? await loadTls(this.cfg.tls, 'protocols.grpc.tls') : null;
    this.address = await bindGrpc(server, this.cfg.endpoint, tls, this.cfg);
    this.server = server;
    this.log.info('OTLP gRPC receiver listening', { address: this.address });
  }

  /** Stops taking calls and waits for the ones in flight (bounded). */
  async shutdown(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    await stopGrpc(server);
  }
}
