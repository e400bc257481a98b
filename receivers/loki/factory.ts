import type { ReceiverFactory } from '../../core/component.ts';
import { defaultLokiConfig, lokiSchema, validateLoki, type LokiReceiverConfig } from './config.ts';
import { LokiReceiver } from './receiver.ts';

export const lokiFactory: ReceiverFactory<LokiReceiverConfig> = {
  kind: 'receiver',
  type: 'loki',
  signals: ['logs'],
  schema: lokiSchema,
  defaultConfig: defaultLokiConfig,
  validate: validateLoki,
  create: (settings, next) => new LokiReceiver(settings, next),
};
