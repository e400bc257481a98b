import type { ReceiverFactory } from '../../core/component.ts';
import { defaultFluentForwardConfig, fluentForwardSchema, validateFluentForward, type FluentForwardConfig } from './config.ts';
import { FluentForwardReceiver } from './receiver.ts';

export const fluentForwardFactory: ReceiverFactory<FluentForwardConfig> = {
  kind: 'receiver',
  type: 'fluentforward',
  signals: ['logs'],
  schema: fluentForwardSchema,
  defaultConfig: defaultFluentForwardConfig,
  validate: validateFluentForward,
  create: (settings, next) => new FluentForwardReceiver(settings, next),
};
