import type { ReceiverFactory } from '../../core/component.ts';
import { defaultZipkinConfig, validateZipkin, zipkinSchema, type ZipkinReceiverConfig } from './config.ts';
import { ZipkinReceiver } from './receiver.ts';

export const zipkinFactory: ReceiverFactory<ZipkinReceiverConfig> = {
  kind: 'receiver',
  type: 'zipkin',
  signals: ['traces'],
  schema: zipkinSchema,
  defaultConfig: defaultZipkinConfig,
  validate: validateZipkin,
  create: (settings, next) => new ZipkinReceiver(settings, next),
};
