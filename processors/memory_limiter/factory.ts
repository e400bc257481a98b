import type { ProcessorFactory } from '../../core/component.ts';
import { MemoryLimiterProcessor } from './memory-limiter.ts';
import { defaultMemoryLimiterConfig, memoryLimiterSchema, validateMemoryLimiter, type MemoryLimiterConfig } from './config.ts';

export const memoryLimiterFactory: ProcessorFactory<MemoryLimiterConfig> = {
  kind: 'processor',
  type: 'memory_limiter',
  signals: ['logs', 'traces'],
  reads: 'nothing',
  schema: memoryLimiterSchema,
  defaultConfig: defaultMemoryLimiterConfig,
  validate: validateMemoryLimiter,
  create: (settings, next) => new MemoryLimiterProcessor(settings, next),
};
