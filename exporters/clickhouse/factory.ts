import type { CreateSettings, ExporterFactory, Reads } from '../../core/component.ts';
import { ExporterHelper } from '../../core/exporter-helper.ts';
import type { Store } from '../../lib/clickhouse/store.ts';
import { clickhouseSchema, defaultClickHouseConfig, validateClickHouse, type ClickHouseConfig } from './config.ts';
import { ClickHouseExporter } from './exporter.ts';
import { NATIVE_SUPPORTED } from '../../lib/clickhouse/native.ts';

/**
 * The embedded engine gets Native blocks, encoded straight from payloads
 * that are still protobuf (native-proto.ts): the receiver need not build
 * records for it. A server gets JSON rows, made from records.
 */
const reads = (config: ClickHouseConfig): Reads => (!config.endpoint && NATIVE_SUPPORTED ? 'bytes' : 'records');

/** The running component: the exporter helper, plus what the service and tests ask of it. */
export class ClickHouseExporterComponent extends ExporterHelper {
  constructor(settings: CreateSettings<ClickHouseConfig>, readonly exporter: ClickHouseExporter) {
    super(settings, exporter, reads as (config: never) => Reads);
  }

  /** `host:port` of the read-only query interface, when it is serving. */
  get queryAddress(): string | undefined {
    return this.exporter.queryAddress;
  }

  get store(): Store | undefined {
    return this.exporter.store;
  }
}

export const clickhouseFactory: ExporterFactory<ClickHouseConfig> = {
  kind: 'exporter',
  type: 'clickhouse',
  signals: ['logs', 'traces'],
  schema: clickhouseSchema,
  defaultConfig: defaultClickHouseConfig,
  validate: validateClickHouse,
  create: (settings) => new ClickHouseExporterComponent(settings, new ClickHouseExporter(settings.config, settings.logger, settings.metrics)),
  reads,
};
