import type { ReceiverFactory } from '../../core/component.ts';
import { defaultZipkinConfig, zipkinSchema, type ZipkinReceiverConfig } from './config.ts';
import { ZipkinReceiver } from './receiver.ts';

export const zipkinFactory: ReceiverFactory<ZipkinReceiverConfig> = {
  kind: 'receiver',
  type: 'zipkin',
  signals: ['traces'],
  schema: zipkinSchema,
  defaultConfig: defaultZipkinConfig,
  create: (settings, next) => new ZipkinReceiver(settings, next),
};
