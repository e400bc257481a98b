/**
 * OTLP/gRPC: the `opentelemetry.proto.collector.{logs,trace}.v1` Export
 * services over @grpc/grpc-js. Requests arrive as raw bytes and are decoded
 * by our own codec inside the handler, so a malformed message becomes
 * INVALID_ARGUMENT with a clear reason rather than a transport error. The
 * metrics service answers UNIMPLEMENTED: metrics are not supported yet.
 */
import * as grpc from '@grpc/grpc-js';
import { GrpcCode, statusFor } from '../../core/errors.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { ObsConsumer } from '../../core/receiver-helper.ts';
import { decodeLogsProto, decodeTracesProto, encodeExportResponse } from '../../core/otlp/index.ts';
import type { GrpcProtocolConfig } from './config.ts';
import { parseEndpoint } from '../../core/net.ts';

const raw = (b: Buffer) => b;
const pass = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

function method(path: string): grpc.MethodDefinition<Buffer, Uint8Array> {
  return {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: pass,
    responseDeserialize: raw,
  };
}

export const LOGS_EXPORT = '/opentelemetry.proto.collector.logs.v1.LogsService/Export';
export const TRACES_EXPORT = '/opentelemetry.proto.collector.trace.v1.TraceService/Export';
export const METRICS_EXPORT = '/opentelemetry.proto.collector.metrics.v1.MetricsService/Export';

function handler(
  decode: (b: Uint8Array) => unknown,
  consume: (data: never) => Promise<void>,
  signal: 'logs' | 'traces',
): grpc.handleUnaryCall<Buffer, Uint8Array> {
  return (call, callback) => {
    let data: unknown;
    try {
      data = decode(call.request);
    } catch (err) {
      callback({ code: GrpcCode.INVALID_ARGUMENT, details: (err as Error).message });
      return;
    }
    consume(data as never).then(
      () => callback(null, encodeExportResponse(signal)),
      (err: unknown) => {
        const st = statusFor(err);
        const md = new grpc.Metadata();
        if (st.retryAfterSeconds) md.set('retry-after', String(st.retryAfterSeconds));
        callback({ code: st.grpc, details: st.message, metadata: md });
      },
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
  ) {}

  async start(): Promise<void> {
    const server = new grpc.Server({
      'grpc.max_receive_message_length': this.cfg.max_recv_msg_size_mib * 1024 * 1024,
    });
    server.addService(
      { Export: method(LOGS_EXPORT) },
      { Export: handler(decodeLogsProto, (d) => this.consumer.logs(d), 'logs') },
    );
    server.addService(
      { Export: method(TRACES_EXPORT) },
      { Export: handler(decodeTracesProto, (d) => this.consumer.traces(d), 'traces') },
    );
    server.addService({ Export: method(METRICS_EXPORT) }, {
      Export: (_call: unknown, callback: grpc.sendUnaryData<Uint8Array>) =>
        callback({ code: GrpcCode.UNIMPLEMENTED, details: 'metrics are not supported by trailhouse yet: send logs and traces' }),
    });
    const { host, port } = parseEndpoint(this.cfg.endpoint);
    const bound = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(new Error(`cannot listen on ${this.cfg.endpoint}: ${err.message}`)) : resolve(p),
      ),
    );
    this.server = server;
    this.address = `${host}:${bound}`;
    this.log.info('OTLP gRPC receiver listening', { address: this.address });
  }

  /** Stops taking calls and waits for the ones in flight (bounded). */
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
