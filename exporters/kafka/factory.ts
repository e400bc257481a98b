import type { ExporterFactory } from '../../core/component.ts';
import { createExporter } from '../../core/exporter-helper.ts';
import { defaultKafkaExporterConfig, encodingFor, kafkaExporterSchema, validateKafkaExporter, type KafkaExporterConfig } from './config.ts';
import { KafkaExporter } from './exporter.ts';

export const kafkaExporterFactory: ExporterFactory<KafkaExporterConfig> = {
  kind: 'exporter',
  type: 'kafka',
  signals: ['logs', 'traces'],
  schema: kafkaExporterSchema,
  defaultConfig: defaultKafkaExporterConfig,
  validate: validateKafkaExporter,
  create: (settings) => createExporter(settings, new KafkaExporter(settings.config, settings.logger)),
  // Protobuf messages are cut from the received bytes (core/otlp/slice.ts).
  forwardsBytes: (config, signal) => encodingFor(config, signal) === 'otlp_proto',
};
