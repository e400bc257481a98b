import type { ProcessorFactory } from '../../core/component.ts';
import { BatchProcessor } from './batch.ts';
import { batchSchema, defaultBatchConfig, validateBatch, type BatchConfig } from './config.ts';

export const batchFactory: ProcessorFactory<BatchConfig> = {
  kind: 'processor',
  type: 'batch',
  signals: ['logs', 'traces'],
  // Joins payloads as they are (bytes stay bytes); only a split past send_batch_max_size builds records.
  reads: 'nothing',
  schema: batchSchema,
  defaultConfig: defaultBatchConfig,
  validate: validateBatch,
  create: (settings, next) => new BatchProcessor(settings, next),
};
