/** The OTLP receiver: gRPC and/or HTTP listeners feeding the pipelines. */
import type { Component, CreateSettings, Host, NextConsumers } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { observedConsumer } from '../../core/receiver-helper.ts';
import type { OtlpReceiverConfig } from './config.ts';
import { OtlpGrpcServer } from './grpc.ts';
import { OtlpHttpServer } from './http.ts';

export class OtlpReceiver implements Component {
  readonly grpc: OtlpGrpcServer | undefined;
  readonly http: OtlpHttpServer | undefined;

  constructor(settings: CreateSettings<OtlpReceiverConfig>, next: NextConsumers) {
    const p = settings.config.protocols;
    if (p.grpc) this.grpc = new OtlpGrpcServer(p.grpc, observedConsumer(settings, next, 'grpc', p.grpc.max_records_per_request), settings.logger);
    if (p.http) this.http = new OtlpHttpServer(p.http, observedConsumer(settings, next, 'http', p.http.max_records_per_request), settings.logger);
  }

  async start(_host?: Host): Promise<void> {
    await this.grpc?.start();
    try {
      await this.http?.start();
    } catch (err) {
      await this.grpc?.shutdown();
      throw err;
    }
  }

  readonly shutdown = once(async () => {
    await Promise.all([this.grpc?.shutdown(), this.http?.shutdown()]);
  });
}
