export { datadogFactory } from './factory.ts';
export { DatadogReceiver } from './receiver.ts';
export { decodeIntake } from './translate.ts';
export type { DatadogReceiverConfig } from './config.ts';
