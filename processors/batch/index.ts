export { batchFactory } from './factory.ts';
export { BatchProcessor } from './batch.ts';
export type { BatchConfig } from './config.ts';
