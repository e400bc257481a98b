/** The OTLP receiver: gRPC and/or HTTP listeners feeding the pipelines. */
import type { Component, CreateSettings, Host, NextConsumers } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { observedConsumer } from '../../core/receiver-helper.ts';
import { receiverAuth } from '../../core/auth.ts';
import { Repeats } from '../../core/repeats.ts';
import type { OtlpReceiverConfig } from './config.ts';
import { OtlpGrpcServer } from './grpc.ts';
import { OtlpHttpServer } from './http.ts';

export class OtlpReceiver implements Component {
  readonly grpc: OtlpGrpcServer | undefined;
  readonly http: OtlpHttpServer | undefined;

  constructor(
    private readonly settings: CreateSettings<OtlpReceiverConfig>,
    next: NextConsumers,
  ) {
    const p = settings.config.protocols;
    // One memory of recent tokens for both listeners: an exporter's retry may come over either.
    const repeats = new Repeats();
    const counted = settings.metrics.counter('trailhouse_receiver_repeated_requests', 'Requests sent again with a deduplication token already taken (x-trailhouse-dedup-token): answered as accepted, not passed on twice.', { receiver: settings.id });
    settings.metrics.onCollect(() => counted.add(repeats.repeats - counted.value));
    if (p.grpc) this.grpc = new OtlpGrpcServer(p.grpc, observedConsumer(settings, next, 'grpc', p.grpc.max_records_per_request), settings.logger, repeats);
    if (p.http) this.http = new OtlpHttpServer(p.http, observedConsumer(settings, next, 'http', p.http.max_records_per_request), settings.logger, repeats);
  }

  async start(host?: Host): Promise<void> {
    const p = this.settings.config.protocols;
    // Resolved before anything listens: a wrong authenticator id fails the start with the reason.
    const grpcAuth = p.grpc ? receiverAuth(host, p.grpc, 'protocols.grpc', this.settings, 'grpc') : null;
    const httpAuth = p.http ? receiverAuth(host, p.http, 'protocols.http', this.settings, 'http') : null;
    await this.grpc?.start(grpcAuth);
    try {
      await this.http?.start(httpAuth);
    } catch (err) {
      await this.grpc?.shutdown();
      throw err;
    }
  }

  readonly shutdown = once(async () => {
    await Promise.all([this.grpc?.shutdown(), this.http?.shutdown()]);
  });
}
