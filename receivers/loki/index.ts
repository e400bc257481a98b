export { lokiFactory } from './factory.ts';
export { LokiReceiver } from './receiver.ts';
export { decodePushJson, decodePushProto } from './push.ts';
export type { LokiReceiverConfig } from './config.ts';
