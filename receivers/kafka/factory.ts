import type { ReceiverFactory } from '../../core/component.ts';
import { defaultKafkaReceiverConfig, kafkaReceiverSchema, validateKafkaReceiver, type KafkaReceiverConfig } from './config.ts';
import { KafkaReceiver } from './receiver.ts';

export const kafkaReceiverFactory: ReceiverFactory<KafkaReceiverConfig> = {
  kind: 'receiver',
  type: 'kafka',
  signals: ['logs', 'traces'],
  schema: kafkaReceiverSchema,
  defaultConfig: defaultKafkaReceiverConfig,
  validate: validateKafkaReceiver,
  create: (settings, next) => new KafkaReceiver(settings, next),
};
