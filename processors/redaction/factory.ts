import type { ProcessorFactory } from '../../core/component.ts';
import { defaultRedactionConfig, redactionSchema, validateRedaction, type RedactionConfig } from './config.ts';
import { RedactionProcessor } from './redaction.ts';

export const redactionFactory: ProcessorFactory<RedactionConfig> = {
  kind: 'processor',
  type: 'redaction',
  signals: ['logs', 'traces'],
  schema: redactionSchema,
  defaultConfig: defaultRedactionConfig,
  validate: validateRedaction,
  create: (settings, next) => new RedactionProcessor(settings, next),
};
