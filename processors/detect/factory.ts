import type { ProcessorFactory } from '../../core/component.ts';
import { defaultDetectConfig, detectSchema, validateDetect, type DetectConfig } from './config.ts';
import { DetectProcessor } from './detect.ts';

export const detectFactory: ProcessorFactory<DetectConfig> = {
  kind: 'processor',
  type: 'detect',
  signals: ['logs', 'traces'],
  // One instance sees both pipelines: source_silent counts a service's logs and spans.
  shared: true,
  // Classifies from the bytes (processors/audit) and reads only resources of spans.
  reads: 'bytes',
  schema: detectSchema,
  defaultConfig: defaultDetectConfig,
  validate: validateDetect,
  create: (settings, next) => new DetectProcessor(settings, next),
};
