/** The jaeger receiver: gRPC, thrift HTTP and the agent's two UDP ports, each when configured. */
import type { Component, CreateSettings, Host, NextConsumers } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { observedConsumer } from '../../core/receiver-helper.ts';
import { receiverAuth } from '../../core/auth.ts';
import type { JaegerReceiverConfig } from './config.ts';
import { JaegerGrpcServer } from './grpc.ts';
import { JaegerHttpServer } from './http.ts';
import { JaegerUdpServer } from './udp.ts';

export class JaegerReceiver implements Component {
  readonly grpc: JaegerGrpcServer | undefined;
  readonly http: JaegerHttpServer | undefined;
  readonly compact: JaegerUdpServer | undefined;
  readonly binary: JaegerUdpServer | undefined;

  constructor(
    private readonly settings: CreateSettings<JaegerReceiverConfig>,
    next: NextConsumers,
  ) {
    const p = settings.config.protocols;
    const log = settings.logger;
    // Transport names as the Collector's jaegerreceiver reports them.
    if (p.grpc) this.grpc = new JaegerGrpcServer(p.grpc, observedConsumer(settings, next, 'grpc', p.grpc.max_records_per_request), log);
    if (p.thrift_http) this.http = new JaegerHttpServer(p.thrift_http, observedConsumer(settings, next, 'collector_http', p.thrift_http.max_records_per_request), log);
    if (p.thrift_compact) {
      const c = observedConsumer(settings, next, 'udp_thrift_compact');
      this.compact = new JaegerUdpServer(p.thrift_compact, 'compact', c, log, settings.metrics, settings.id);
    }
    if (p.thrift_binary) {
      const c = observedConsumer(settings, next, 'udp_thrift_binary');
      this.binary = new JaegerUdpServer(p.thrift_binary, 'binary', c, log, settings.metrics, settings.id);
    }
  }

  private servers() {
    return [this.grpc, this.http, this.compact, this.binary].filter((s) => s !== undefined);
  }

  async start(host?: Host): Promise<void> {
    const p = this.settings.config.protocols;
    // Resolved before anything listens: a wrong authenticator id fails the start with the reason.
    const grpcAuth = p.grpc ? receiverAuth(host, p.grpc, 'protocols.grpc', this.settings, 'grpc') : null;
    const httpAuth = p.thrift_http ? receiverAuth(host, p.thrift_http, 'protocols.thrift_http', this.settings, 'collector_http') : null;
    const started: Array<{ shutdown(): Promise<void> }> = [];
    try {
      for (const s of this.servers()) {
        await (s === this.grpc ? this.grpc.start(grpcAuth) : s === this.http ? this.http.start(httpAuth) : s.start());
        started.push(s);
      }
    } catch (err) {
      await Promise.allSettled(started.map((s) => s.shutdown()));
      throw err;
    }
  }

  readonly shutdown = once(async () => {
    const results = await Promise.allSettled(this.servers().map((s) => s.shutdown()));
    const errors = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason);
    if (errors.length > 0) throw new AggregateError(errors, 'jaeger receiver shutdown failed');
  });
}
