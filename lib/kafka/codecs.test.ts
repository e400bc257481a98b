// Kafka record-batch codecs (codecs.ts). Interop with Java's own producer and
// consumer is in test/kafka-compression.test.ts.
import { randomBytes } from 'node:crypto';
import { CompressionTypes } from 'kafkajs';
import { compressSync } from 'snappy';
import { describe, expect, it } from 'vitest';
import { codecRegistry, snappyDecode, snappyEncode, zstdDecode, zstdEncode, zstdWritable } from './codecs.ts';

// Compressible like OTLP: repeated keys and values, some random ids.
const payload = (n: number) =>
  Buffer.concat(Array.from({ length: n }, (_, i) => Buffer.from(`{"service.name":"checkout","http.route":"/cart/${i % 7}","id":"${randomBytes(8).toString('hex')}"}`)));

describe('snappy', () => {
  it('writes the xerial framing in 32 KiB blocks and reads it back', async () => {
    const data = payload(2000); // ~190 KB: several blocks
    const enc = await snappyEncode(data);
    expect(enc.subarray(0, 16)).toEqual(Buffer.from([0x82, 0x53, 0x4e, 0x41, 0x50, 0x50, 0x59, 0x00, 0, 0, 0, 1, 0, 0, 0, 1]));
    expect(enc.length).toBeLessThan(data.length / 2);
    let blocks = 0;
    for (let at = 16; at < enc.length; at += 4 + enc.readUInt32BE(at)) blocks++;
    expect(blocks).toBe(Math.ceil(data.length / 32768));
    expect((await snappyDecode(enc)).equals(data)).toBe(true);
  });

  it('reads a raw snappy block (what kafkajs-snappy and some Go clients write)', async () => {
    const data = payload(50);
    expect((await snappyDecode(compressSync(data))).equals(data)).toBe(true);
  });

  it('an empty input round-trips; a truncated framing is an error, not garbage', async () => {
    expect((await snappyDecode(await snappyEncode(Buffer.alloc(0)))).length).toBe(0);
    const enc = await snappyEncode(payload(500));
    await expect(snappyDecode(enc.subarray(0, enc.length - 10))).rejects.toThrow(/runs past the end/);
  });
});

describe('zstd', () => {
  it('reads a frame the zstd command line wrote', async () => {
    const frame = Buffer.from('KLUv/QRYrQEA1AJ0cmFpbGhvdXNlIHpzdGQgdmVjdG9yOiB0aGUgc2FtZSBsaW5lIGFnYWluLC4BAITQLAP7THpg', 'base64');
    expect((await zstdDecode(frame)).toString()).toBe('trailhouse zstd vector: the same line again, the same line again, the same line again.');
  });

  it('writes zstd only where zlib has it, and says why not otherwise', async () => {
    const data = payload(100);
    if (zstdWritable) expect((await zstdDecode(await zstdEncode(data))).equals(data)).toBe(true);
    else await expect(zstdEncode(data)).rejects.toThrow(/needs Node\.js >= 22\.15/);
  });
});

describe('registered with kafkajs', () => {
  it('snappy and lz4 round-trip through the codecs kafkajs looks up', async () => {
    const data = payload(300);
    for (const type of [CompressionTypes.Snappy, CompressionTypes.LZ4]) {
      const codec = codecRegistry()[type]!();
      const enc = await codec.compress({ buffer: data });
      expect(enc.length).toBeLessThan(data.length / 2);
      expect((await codec.decompress(enc)).equals(data)).toBe(true);
    }
    // LZ4 frame magic, as Kafka's KafkaLZ4BlockInputStream expects.
    const lz4 = await codecRegistry()[CompressionTypes.LZ4]!().compress({ buffer: data });
    expect(lz4.readUInt32LE(0)).toBe(0x184d2204);
  });
});
