/** Constants and scratch space shared by wire-reader.ts and wire-writer.ts. */
export const WT_VARINT = 0;
export const WT_I64 = 1;
export const WT_LEN = 2;
export const WT_I32 = 5;

/** Deepest AnyValue nesting we accept; protects the stack from hostile input. */
export const MAX_DEPTH = 64;

// Scratch for fixed64 <-> bigint / double without per-call allocations.
export const scratch = new Uint8Array(8);
export const scratchU64 = new BigUint64Array(scratch.buffer);
export const scratchF64 = new Float64Array(scratch.buffer);
export const LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// Node's Buffer has these fast native slicers; @types/node does not declare them.
export interface FastBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
  hexSlice(start: number, end: number): string;
  utf8Write(s: string, offset: number, length?: number): number;
}

export function asBuffer(data: Uint8Array): FastBuffer {
  return (Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength)) as FastBuffer;
}
