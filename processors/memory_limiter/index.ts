export { memoryLimiterFactory } from './factory.ts';
export { MemoryLimiterProcessor, measureMemory } from './memory-limiter.ts';
export type { MemoryLimiterConfig } from './config.ts';
