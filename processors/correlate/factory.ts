import type { ProcessorFactory } from '../../core/component.ts';
import { correlateSchema, defaultCorrelateConfig, validateCorrelate, type CorrelateConfig } from './config.ts';
import { CorrelateProcessor } from './correlate.ts';

export const correlateFactory: ProcessorFactory<CorrelateConfig> = {
  kind: 'processor',
  type: 'correlate',
  signals: ['logs', 'traces'],
  // One instance sees both pipelines: logs and spans of a trace must meet.
  shared: true,
  // Indexes and enriches from the bytes (peek.ts; enrichment as patches); records when decoded already.
  reads: 'bytes',
  schema: correlateSchema,
  defaultConfig: defaultCorrelateConfig,
  validate: validateCorrelate,
  create: (settings, next) => new CorrelateProcessor(settings, next),
};
