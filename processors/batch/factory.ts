import type { ProcessorFactory } from '../../core/component.ts';
import { BatchProcessor } from './batch.ts';
import { batchSchema, defaultBatchConfig, validateBatch, type BatchConfig } from './config.ts';

export const batchFactory: ProcessorFactory<BatchConfig> = {
  kind: 'processor',
  type: 'batch',
  signals: ['logs', 'traces'],
  keepsRawProto: true,
  forwardsBytes: true,
  schema: batchSchema,
  defaultConfig: defaultBatchConfig,
  validate: validateBatch,
  create: (settings, next) => new BatchProcessor(settings, next),
};
