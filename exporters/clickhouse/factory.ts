import type { ExporterFactory } from '../../core/component.ts';
import { createExporter } from '../../core/exporter-helper.ts';
import { clickhouseSchema, defaultClickHouseConfig, validateClickHouse, type ClickHouseConfig } from './config.ts';
import { ClickHouseExporter } from './exporter.ts';

export const clickhouseFactory: ExporterFactory<ClickHouseConfig> = {
  kind: 'exporter',
  type: 'clickhouse',
  signals: ['logs', 'traces'],
  schema: clickhouseSchema,
  defaultConfig: defaultClickHouseConfig,
  validate: validateClickHouse,
  create: (settings) => createExporter(settings, new ClickHouseExporter(settings.config, settings.logger)),
};
