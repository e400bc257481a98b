export { zipkinFactory } from './factory.ts';
export { ZipkinReceiver } from './receiver.ts';
export { decodeV2Json } from './v2-json.ts';
export { decodeV2Proto } from './v2-proto.ts';
export { zipkinV2ToTraces } from './v2-translate.ts';
export { decodeV1Json } from './v1-json.ts';
export { decodeV1Thrift } from './v1-thrift.ts';
export { zipkinV1ToTraces } from './v1-translate.ts';
export type { ZipkinReceiverConfig } from './config.ts';
