import type { ExporterFactory } from '../../core/component.ts';
import { createExporter } from '../../core/exporter-helper.ts';
import { defaultOtlpExporterConfig, otlpExporterSchema, validateOtlpExporter, type OtlpExporterConfig } from './config.ts';
import { OtlpGrpcPusher } from './exporter.ts';

/** Sends the protobuf bytes it is given (or its persistent queue replays) without decoding them. */
const reads = () => 'bytes' as const;

export const otlpExporterFactory: ExporterFactory<OtlpExporterConfig> = {
  kind: 'exporter',
  type: 'otlp',
  signals: ['logs', 'traces'],
  schema: otlpExporterSchema,
  defaultConfig: defaultOtlpExporterConfig,
  validate: validateOtlpExporter,
  create: (settings) => createExporter(settings, new OtlpGrpcPusher(settings.config, settings.logger), reads),
  reads,
};
export type { OtlpExporterConfig } from './config.ts';
