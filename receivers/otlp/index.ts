export { otlpFactory } from './factory.ts';
export { OtlpReceiver } from './otlp.ts';
export type { OtlpReceiverConfig } from './config.ts';
