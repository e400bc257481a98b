import type { ExporterFactory, Reads } from '../../core/component.ts';
import { createExporter } from '../../core/exporter-helper.ts';
import { defaultOtlpHttpExporterConfig, otlpHttpExporterSchema, validateOtlpHttpExporter, type OtlpHttpExporterConfig } from './config.ts';
import { OtlpHttpPusher } from './exporter.ts';

/** protobuf: the bytes it is given go out as they are; json is encoded from records. */
const reads = (c: OtlpHttpExporterConfig): Reads => (c.encoding === 'json' ? 'records' : 'bytes');

export const otlpHttpExporterFactory: ExporterFactory<OtlpHttpExporterConfig> = {
  kind: 'exporter',
  type: 'otlphttp',
  signals: ['logs', 'traces'],
  schema: otlpHttpExporterSchema,
  defaultConfig: defaultOtlpHttpExporterConfig,
  validate: validateOtlpHttpExporter,
  create: (settings) => createExporter(settings, new OtlpHttpPusher(settings.config, settings.logger), reads),
  reads,
};
export type { OtlpHttpExporterConfig } from './config.ts';
