import type { ExporterFactory } from '../../core/component.ts';
import { createExporter } from '../../core/exporter-helper.ts';
import { defaultKafkaExporterConfig, kafkaExporterSchema, validateKafkaExporter, type KafkaExporterConfig } from './config.ts';
import { KafkaExporter } from './exporter.ts';

export const kafkaExporterFactory: ExporterFactory<KafkaExporterConfig> = {
  kind: 'exporter',
  type: 'kafka',
  signals: ['logs', 'traces'],
  schema: kafkaExporterSchema,
  defaultConfig: defaultKafkaExporterConfig,
  validate: validateKafkaExporter,
  create: (settings) => createExporter(settings, new KafkaExporter(settings.config, settings.logger)),
};
