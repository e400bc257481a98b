/**
 * The on-disk form of one queued batch:
 *
 *   "THQ1" | signal u8 (1 logs, 2 traces) | count u32 | token length u16 | token utf8
 *   | payload length u32 | payload (OTLP Export request protobuf) | crc32 u32 of all before
 *
 * The payload is what the Collector's kafka exporter would put on the wire,
 * so a queue directory can be inspected with any OTLP tool. The length and
 * checksum catch a torn or damaged file on replay.
 */
import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import type { LogsData, Signal, TracesData } from '../../core/model.ts';
import { decodeLogsProto, decodeTracesProto, encodeLogsProto, encodeTracesProto } from '../../core/otlp/index.ts';
import { Payload } from '../../core/payload.ts';
import type { QueueItem } from '../../core/queue/memory-queue.ts';

const MAGIC = Buffer.from('THQ1');

/**
 * The record as the pieces it is written from (one writev, no copy of the
 * payload): header + token + length, the payload's parts, the checksum.
 */
export function encodeRecordParts(item: QueueItem): Uint8Array[] {
  // The bytes the payload arrived as, when they still are its records (core/payload.ts bytes()): no second encode.
  let payload = item.data.bytes() ?? [item.signal === 'logs' ? encodeLogsProto(item.data.records() as LogsData) : encodeTracesProto(item.data.records() as TracesData)];
  // Many small requests batched together: one piece, well under writev's IOV_MAX.
  if (payload.length > 256) payload = [Buffer.concat(payload)];
  let plen = 0;
  for (const p of payload) plen += p.length;
  const token = Buffer.from(item.dedupToken, 'utf8');
  const head = Buffer.allocUnsafe(4 + 1 + 4 + 2 + token.length + 4);
  MAGIC.copy(head, 0);
  head.writeUInt8(item.signal === 'logs' ? 1 : 2, 4);
  head.writeUInt32BE(item.count, 5);
  head.writeUInt16BE(token.length, 9);
  token.copy(head, 11);
  head.writeUInt32BE(plen, 11 + token.length);
  let sum = crc32(head);
  for (const p of payload) sum = crc32(p, sum);
  const tail = Buffer.allocUnsafe(4);
  tail.writeUInt32BE(sum >>> 0, 0);
  return [head, ...payload, tail];
}

export function encodeRecord(item: QueueItem): Buffer {
  return Buffer.concat(encodeRecordParts(item));
}

/** `keepRaw`: the payload stays the bytes read (decoded only if read), else it is decoded now. */
export function decodeRecord(buf: Buffer, keepRaw = false): Omit<QueueItem, 'ref'> {
  if (buf.length < 4 + 1 + 4 + 2 + 4 + 4 || !buf.subarray(0, 4).equals(MAGIC)) throw new Error('not a queue record');
  const body = buf.subarray(0, buf.length - 4);
  if ((crc32(body) >>> 0) !== buf.readUInt32BE(buf.length - 4)) throw new Error('checksum mismatch');
  const code = buf.readUInt8(4);
  if (code !== 1 && code !== 2) throw new Error(`unknown signal ${code}`);
  const signal: Signal = code === 1 ? 'logs' : 'traces';
  const count = buf.readUInt32BE(5);
  const tlen = buf.readUInt16BE(9);
  const dedupToken = buf.toString('utf8', 11, 11 + tlen);
  const plen = buf.readUInt32BE(11 + tlen);
  const start = 15 + tlen;
  if (start + plen !== body.length) throw new Error('length mismatch');
  const payload = buf.subarray(start, start + plen);
  // For a consumer that sends the bytes (keepRaw), the records are built only
  // if it reads them after all (core/payload.ts records()); the checksum
  // above vouches for bytes that were a valid request when written.
  const data = keepRaw
    ? Payload.ofBytes(signal, [payload], count)
    : signal === 'logs' ? Payload.logs(decodeLogsProto(payload)) : Payload.traces(decodeTracesProto(payload));
  return { signal, data, count, dedupToken };
}

/**
 * The signal and token of a stored record, from its first bytes (replay
 * groups records by token before reading them). Throws on a file too short
 * or not a record; the checksum is checked when the record is read whole.
 */
export async function readRecordHead(path: string): Promise<{ signal: Signal; token: string }> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(11);
    if ((await fh.read(head, 0, 11, 0)).bytesRead < 11 || !head.subarray(0, 4).equals(MAGIC)) throw new Error('not a queue record');
    const tlen = head.readUInt16BE(9);
    const token = Buffer.alloc(tlen);
    if ((await fh.read(token, 0, tlen, 11)).bytesRead < tlen) throw new Error('not a queue record');
    return { signal: head.readUInt8(4) === 1 ? 'logs' : 'traces', token: token.toString('utf8') };
  } finally {
    await fh.close();
  }
}
