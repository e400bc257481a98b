import type { ProcessorFactory } from '../../core/component.ts';
import { AuditProcessor } from './audit.ts';
import { auditSchema, defaultAuditConfig, validateAudit, type AuditConfig } from './config.ts';

export const auditFactory: ProcessorFactory<AuditConfig> = {
  kind: 'processor',
  // Classifies from views of the bytes (audit.ts classifyBytes), patches applied.
  reads: 'bytes',
  type: 'audit',
  signals: ['logs'],
  schema: auditSchema,
  defaultConfig: defaultAuditConfig,
  validate: validateAudit,
  create: (settings, next) => new AuditProcessor(settings, next),
};
