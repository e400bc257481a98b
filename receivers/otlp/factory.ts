import type { ReceiverFactory } from '../../core/component.ts';
import { defaultOtlpConfig, otlpSchema, validateOtlp, type OtlpReceiverConfig } from './config.ts';
import { OtlpReceiver } from './otlp.ts';

export const otlpFactory: ReceiverFactory<OtlpReceiverConfig> = {
  kind: 'receiver',
  type: 'otlp',
  signals: ['logs', 'traces'],
  schema: otlpSchema,
  defaultConfig: defaultOtlpConfig,
  validate: validateOtlp,
  create: (settings, next) => new OtlpReceiver(settings, next),
};
