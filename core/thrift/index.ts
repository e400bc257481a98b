/** Thrift binary and compact protocol readers (and writers for tests/benchmarks). */
export { TType, MessageType, ThriftDecodeError, checkedCount, hex64, int64, skipValue } from './types.ts';
export type { ThriftReader, MessageHeader } from './types.ts';
export { BinaryReader } from './binary.ts';
export { CompactReader } from './compact.ts';
export { BinaryWriter, CompactWriter } from './writer.ts';
export type { ThriftWriter } from './writer.ts';
