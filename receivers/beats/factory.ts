import type { ReceiverFactory } from '../../core/component.ts';
import { beatsSchema, defaultBeatsConfig, validateBeats, type BeatsReceiverConfig } from './config.ts';
import { BeatsReceiver } from './receiver.ts';

export const beatsFactory: ReceiverFactory<BeatsReceiverConfig> = {
  kind: 'receiver',
  type: 'beats',
  signals: ['logs'],
  schema: beatsSchema,
  defaultConfig: defaultBeatsConfig,
  validate: validateBeats,
  create: (settings, next) => new BeatsReceiver(settings, next),
};
