/**
 * Snappy block format (not the framed stream) decompression with a size
 * bound checked before any work: the block starts with its uncompressed
 * length as a varint, so a small body claiming a huge output is refused
 * without allocating it. The decoding itself is the `snappy` package
 * (native, already used for Kafka's codec), which checks the block's
 * copies stay inside the output.
 */
import { createRequire } from 'node:module';
import type * as Snappy from 'snappy';

const require = createRequire(import.meta.url);
let lib: typeof Snappy | undefined;
const snappy = () => (lib ??= require('snappy') as typeof Snappy);

/** The uncompressed length a snappy block declares (its leading varint, at most 32 bits). */
export function snappyDeclaredLength(buf: Uint8Array): number {
  let n = 0;
  for (let i = 0, shift = 0; i < 5; i++, shift += 7) {
    if (i >= buf.length) throw new Error('snappy: truncated length header');
    const b = buf[i]!;
    n += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) {
      if (n > 0xffffffff) break;
      return n;
    }
  }
  throw new Error('snappy: length header is not a 32-bit varint');
}

/** Decompresses one snappy block of at most `limit` bytes uncompressed; throws with the reason otherwise. */
export function snappyBlockDecode(buf: Uint8Array, limit: number): Buffer {
  const n = snappyDeclaredLength(buf);
  if (n > limit) throw new SnappyTooLarge(`snappy block decompresses to ${n} bytes, over the limit of ${limit} bytes`);
  let out: Buffer;
  try {
    out = snappy().uncompressSync(Buffer.from(buf.buffer, buf.byteOffset, buf.length), { asBuffer: true }) as Buffer;
  } catch (err) {
    throw new Error(`snappy: corrupt block: ${(err as Error).message}`, { cause: err });
  }
  if (out.length !== n) throw new Error(`snappy: block decoded to ${out.length} bytes, its header says ${n}`);
  return out;
}

export class SnappyTooLarge extends Error {
  override readonly name = 'SnappyTooLarge';
}
