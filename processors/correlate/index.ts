export { correlateFactory } from './factory.ts';
export { CorrelateProcessor } from './correlate.ts';
export type { CorrelateConfig } from './config.ts';
export { defaultCorrelateConfig } from './config.ts';
export { ATTR as ENRICHMENT_ATTRIBUTES } from './enrich.ts';
export { summaryStatements, names as summaryTableNames } from './schema.ts';
