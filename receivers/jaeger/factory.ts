import type { ReceiverFactory } from '../../core/component.ts';
import { defaultJaegerConfig, jaegerSchema, validateJaeger, type JaegerReceiverConfig } from './config.ts';
import { JaegerReceiver } from './receiver.ts';

export const jaegerFactory: ReceiverFactory<JaegerReceiverConfig> = {
  kind: 'receiver',
  type: 'jaeger',
  signals: ['traces'],
  schema: jaegerSchema,
  defaultConfig: defaultJaegerConfig,
  validate: validateJaeger,
  create: (settings, next) => new JaegerReceiver(settings, next),
};
