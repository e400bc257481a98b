/**
 * zstd decompression of a whole body with an output bound that holds while
 * decoding (a small frame may expand without limit, and its declared
 * content size is optional): `fzstd`'s streaming decoder hands out blocks
 * (at most 128KiB each) and decoding stops at the first block past `limit`.
 * Pure JS, so it works on every Node.js this project runs on.
 */
import { createRequire } from 'node:module';
import type * as Fzstd from 'fzstd';

const require = createRequire(import.meta.url);
let lib: typeof Fzstd | undefined;
const fzstd = () => (lib ??= require('fzstd') as typeof Fzstd);

export class ZstdTooLarge extends Error {
  override readonly name = 'ZstdTooLarge';
}

export function zstdDecodeBounded(buf: Uint8Array, limit: number): Buffer {
  const chunks: Uint8Array[] = [];
  let size = 0;
  const d = new (fzstd().Decompress)((chunk: Uint8Array) => {
    size += chunk.length;
    if (size > limit) throw new ZstdTooLarge(`zstd body decompresses beyond the limit of ${limit} bytes`);
    chunks.push(chunk);
  });
  try {
    d.push(buf, true);
  } catch (err) {
    if (err instanceof ZstdTooLarge) throw err;
    throw new Error(`zstd: corrupt body: ${(err as Error).message}`, { cause: err });
  }
  return Buffer.concat(chunks, size);
}
