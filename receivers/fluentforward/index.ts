export { fluentForwardFactory } from './factory.ts';
export { FluentForwardReceiver } from './receiver.ts';
export type { FluentForwardConfig } from './config.ts';
