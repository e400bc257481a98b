import type { ProcessorFactory } from '../../core/component.ts';
import { decidesFromBytes, defaultRedactionConfig, redactionSchema, validateRedaction, type RedactionConfig } from './config.ts';
import { redactionProcessor } from './processor.ts';

export const redactionFactory: ProcessorFactory<RedactionConfig> = {
  kind: 'processor',
  type: 'redaction',
  signals: ['logs', 'traces'],
  // With only built-in rules it checks the bytes and rewrites the requests that hold a secret
  // (processor.ts); other rules read records.
  reads: (config) => (decidesFromBytes(config) ? 'bytes' : 'records'),
  schema: redactionSchema,
  defaultConfig: defaultRedactionConfig,
  validate: validateRedaction,
  create: (settings, next) => redactionProcessor(settings, next),
};
