import type { ProcessorFactory } from '../../core/component.ts';
import { defaultRedactionConfig, redactionSchema, validateRedaction, type RedactionConfig } from './config.ts';
import { redactionProcessor } from './redaction.ts';

export const redactionFactory: ProcessorFactory<RedactionConfig> = {
  kind: 'processor',
  type: 'redaction',
  signals: ['logs', 'traces'],
  schema: redactionSchema,
  defaultConfig: defaultRedactionConfig,
  validate: validateRedaction,
  create: (settings, next) => redactionProcessor(settings, next),
};
