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
import { crc32 } from 'node:zlib';
import { rawProto, type LogsData, type Signal, type TracesData } from '../../core/model.ts';
import { decodeLogsProto, decodeTracesProto, encodeLogsProto, encodeTracesProto } from '../../core/otlp/index.ts';
import type { QueueItem } from '../../core/queue/memory-queue.ts';

const MAGIC = Buffer.from('THQ1');

export function encodeRecord(item: QueueItem): Buffer {
  // The bytes the payload arrived as, when a stage kept them (core/model.ts rawProto): no second encode.
  const raw = rawProto(item.data);
  const payload = raw
    ? raw.length === 1 ? raw[0]! : Buffer.concat(raw)
    : item.signal === 'logs' ? encodeLogsProto(item.data as LogsData) : encodeTracesProto(item.data as TracesData);
  const token = Buffer.from(item.dedupToken, 'utf8');
  const head = Buffer.alloc(4 + 1 + 4 + 2);
  MAGIC.copy(head, 0);
  head.writeUInt8(item.signal === 'logs' ? 1 : 2, 4);
  head.writeUInt32BE(item.count, 5);
  head.writeUInt16BE(token.length, 9);
  const len = Buffer.alloc(4);
  len.writeUInt32BE(payload.length, 0);
  const body = Buffer.concat([head, token, len, payload]);
  const sum = Buffer.alloc(4);
  sum.writeUInt32BE(crc32(body) >>> 0, 0);
  return Buffer.concat([body, sum]);
}

export function decodeRecord(buf: Buffer): Omit<QueueItem, 'ref'> {
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
  const data = signal === 'logs' ? decodeLogsProto(payload) : decodeTracesProto(payload);
  return { signal, data, count, dedupToken };
}
