import type { ProcessorFactory } from '../../core/component.ts';
import { decidesFromBytes, defaultRedactionConfig, redactionSchema, validateRedaction, type RedactionConfig } from './config.ts';
import { redactionProcessor } from './processor.ts';

export const redactionFactory: ProcessorFactory<RedactionConfig> = {
  kind: 'processor',
  type: 'redaction',
  signals: ['logs', 'traces'],
  // Drops the received bytes itself when it changes records, and passes on bytes it has checked (processor.ts).
  keepsRawProto: true,
  forwardsBytes: decidesFromBytes,
  schema: redactionSchema,
  defaultConfig: defaultRedactionConfig,
  validate: validateRedaction,
  create: (settings, next) => redactionProcessor(settings, next),
};
