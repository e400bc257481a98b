export { jaegerFactory } from './factory.ts';
export { JaegerReceiver } from './receiver.ts';
export { jaegerToTraces } from './translate.ts';
export { decodePostSpansRequest } from './proto-decode.ts';
export { readBatch, readBatchBody, readEmitBatch } from './thrift-decode.ts';
export { DROPPED_PACKETS } from './udp.ts';
export type { JaegerReceiverConfig } from './config.ts';
