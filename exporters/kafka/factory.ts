import type { ExporterFactory, Reads } from '../../core/component.ts';
import { createExporter } from '../../core/exporter-helper.ts';
import { defaultKafkaExporterConfig, encodingFor, kafkaExporterSchema, validateKafkaExporter, type KafkaExporterConfig } from './config.ts';
import { KafkaExporter } from './exporter.ts';

/** Protobuf messages are cut from the received bytes (core/otlp/slice.ts); JSON is encoded from records. */
const reads = (config: KafkaExporterConfig, signal: 'logs' | 'traces'): Reads => (encodingFor(config, signal) === 'otlp_proto' ? 'bytes' : 'records');

export const kafkaExporterFactory: ExporterFactory<KafkaExporterConfig> = {
  kind: 'exporter',
  type: 'kafka',
  signals: ['logs', 'traces'],
  schema: kafkaExporterSchema,
  defaultConfig: defaultKafkaExporterConfig,
  validate: validateKafkaExporter,
  create: (settings) => createExporter(settings, new KafkaExporter(settings.config, settings.logger), reads),
  reads,
};
