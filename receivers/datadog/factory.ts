import type { ReceiverFactory } from '../../core/component.ts';
import { datadogSchema, defaultDatadogConfig, validateDatadog, type DatadogReceiverConfig } from './config.ts';
import { DatadogReceiver } from './receiver.ts';

export const datadogFactory: ReceiverFactory<DatadogReceiverConfig> = {
  kind: 'receiver',
  type: 'datadog',
  signals: ['logs'],
  schema: datadogSchema,
  defaultConfig: defaultDatadogConfig,
  validate: validateDatadog,
  create: (settings, next) => new DatadogReceiver(settings, next),
};
