/**
 * Kafka's snappy, lz4 and zstd record-batch codecs for kafkajs, which ships
 * gzip only. Registered once, for every kafkajs client of the process (the
 * kafka exporter and receiver): a receiver must read whatever a Collector or
 * a Java producer chose, or a compressed batch would stall its partition.
 *
 * - snappy: the `snappy` package (native, prebuilt). Java producers write the
 *   xerial framing (a 16-byte header, then length-prefixed blocks); other
 *   clients write one raw block. Both are read; we write the xerial framing
 *   in 32 KiB blocks as Java's SnappyOutputStream does, which every consumer
 *   (Java, Sarama, franz-go, librdkafka, kafkajs-snappy) reads.
 * - lz4: the LZ4 frame format (what Kafka uses since message format v1),
 *   through `lz4-napi` (native, prebuilt).
 * - zstd: node's zlib where it has zstd (Node.js ≥ 22.15), else reading only,
 *   with `fzstd` (pure JS). Writing zstd on an older Node.js is refused when
 *   the exporter's config is checked (`zstdWritable`).
 */
import * as zlib from 'node:zlib';
import { promisify } from 'node:util';
import type { CompressionTypes as CompressionType } from 'kafkajs';
import { createRequire } from 'node:module';
import { kafkajs } from './kafkajs.ts';
import type * as Snappy from 'snappy';
import type * as Lz4 from 'lz4-napi';
import type * as Fzstd from 'fzstd';

// The codec libraries (two native addons) load on first use, not at start-up:
// kafkajs asks for a codec only when a batch uses it.
const require = createRequire(import.meta.url);
let snappyLib: typeof Snappy | undefined;
let lz4Lib: typeof Lz4 | undefined;
let fzstdLib: typeof Fzstd | undefined;
const snappy = () => (snappyLib ??= require('snappy') as typeof Snappy);
const lz4 = () => (lz4Lib ??= require('lz4-napi') as typeof Lz4);
const fzstd = () => (fzstdLib ??= require('fzstd') as typeof Fzstd);

/** Kafka's record-batch compression attribute values (the protocol's, as kafkajs' CompressionTypes has them). */
const CompressionTypes = { None: 0, GZIP: 1, Snappy: 2, LZ4: 3, ZSTD: 4 } as unknown as Record<'None' | 'GZIP' | 'Snappy' | 'LZ4' | 'ZSTD', CompressionType>;

export type Compression = 'none' | 'gzip' | 'snappy' | 'lz4' | 'zstd';
export const COMPRESSIONS: readonly Compression[] = ['none', 'gzip', 'snappy', 'lz4', 'zstd'];

export const COMPRESSION_TYPES: Record<Compression, CompressionType> = {
  none: CompressionTypes.None,
  gzip: CompressionTypes.GZIP,
  snappy: CompressionTypes.Snappy,
  lz4: CompressionTypes.LZ4,
  zstd: CompressionTypes.ZSTD,
};

// ---------------------------------------------------------------- snappy

/** xerial snappy-java's stream header: magic, then version 1 and compatible version 1 (int32 BE). */
const XERIAL_MAGIC = Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00]);
const XERIAL_HEADER = Buffer.concat([XERIAL_MAGIC, Buffer.from([0, 0, 0, 1, 0, 0, 0, 1])]);
const XERIAL_BLOCK = 32 * 1024;

const snappyBlock = async (b: Buffer): Promise<Buffer> => (await snappy().uncompress(b, { asBuffer: true })) as Buffer;

export async function snappyDecode(buf: Buffer): Promise<Buffer> {
  if (buf.length < 16 || !buf.subarray(0, 8).equals(XERIAL_MAGIC)) return snappyBlock(buf);
  const blocks: Buffer[] = [];
  let at = 16;
  while (at < buf.length) {
    if (at + 4 > buf.length) throw new Error('snappy: truncated xerial block length');
    const len = buf.readUInt32BE(at);
    at += 4;
    if (at + len > buf.length) throw new Error(`snappy: xerial block of ${len} bytes runs past the end`);
    blocks.push(await snappyBlock(buf.subarray(at, at + len)));
    at += len;
  }
  return blocks.length === 1 ? blocks[0]! : Buffer.concat(blocks);
}

export async function snappyEncode(buf: Buffer): Promise<Buffer> {
  const parts: Buffer[] = [XERIAL_HEADER];
  for (let at = 0; at < buf.length; at += XERIAL_BLOCK) {
    const block = await snappy().compress(buf.subarray(at, Math.min(at + XERIAL_BLOCK, buf.length)));
    const len = Buffer.allocUnsafe(4);
    len.writeUInt32BE(block.length, 0);
    parts.push(len, block);
  }
  return Buffer.concat(parts);
}

// ---------------------------------------------------------------- zstd

type ZlibZstd = { zstdCompress?: typeof zlib.gzip; zstdDecompress?: typeof zlib.gunzip };
const z = zlib as unknown as ZlibZstd;
const zstdCompress = z.zstdCompress ? promisify(z.zstdCompress) : undefined;
const zstdDecompress = z.zstdDecompress ? promisify(z.zstdDecompress) : undefined;

/** Whether this Node.js can write zstd (zlib's zstd, Node.js ≥ 22.15). Reading always works. */
export const zstdWritable = zstdCompress !== undefined;

export async function zstdDecode(buf: Buffer): Promise<Buffer> {
  if (zstdDecompress) return zstdDecompress(buf);
  const out = fzstd().decompress(buf);
  return Buffer.from(out.buffer, out.byteOffset, out.byteLength);
}

export async function zstdEncode(buf: Buffer): Promise<Buffer> {
  if (!zstdCompress) throw new Error(`zstd compression needs Node.js >= 22.15 (zlib's zstd); this is ${process.version}`);
  return zstdCompress(buf);
}

// ---------------------------------------------------------------- registration

/** A kafkajs codec: `compress` gets kafkajs' encoder, whose `buffer` is the records to compress. */
export interface KafkaCodec {
  compress(encoder: { buffer: Buffer }): Promise<Buffer>;
  decompress(buffer: Buffer): Promise<Buffer>;
}

/** kafkajs' codec registry, by compression type (its typings cover only its own entries), with ours in it. */
let registered = false;
export function codecRegistry(): Record<number, () => KafkaCodec> {
  const registry = kafkajs().CompressionCodecs as unknown as Record<number, () => KafkaCodec>;
  if (!registered) {
    registered = true;
    registry[CompressionTypes.Snappy] = codec(snappyEncode, snappyDecode);
    registry[CompressionTypes.LZ4] = codec(
      (b) => lz4().compressFrame(b),
      (b) => lz4().decompressFrame(b),
    );
    registry[CompressionTypes.ZSTD] = codec(zstdEncode, zstdDecode);
  }
  return registry;
}

const codec = (compress: (b: Buffer) => Promise<Buffer>, decompress: (b: Buffer) => Promise<Buffer>) => (): KafkaCodec => ({
  compress: (encoder) => compress(encoder.buffer),
  decompress,
});

