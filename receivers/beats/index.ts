export { beatsFactory } from './factory.ts';
export { BeatsReceiver } from './receiver.ts';
export type { BeatsReceiverConfig } from './config.ts';
