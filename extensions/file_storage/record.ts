/**
 * The on-disk form of one queued batch, a frame in a segment file
 * (file-queue.ts):
 *
 *   "THQ1" | signal u8 (1 logs, 2 traces) | count u32 | token length u16 | token utf8
 *   | payload length u32 | payload (OTLP Export request protobuf) | crc32 u32 of all before
 *
 * The payload is what the Collector's kafka exporter would put on the wire,
 * so a queue directory can be inspected with any OTLP tool. The lengths say
 * where the next frame starts; the checksum, which covers them, catches a
 * torn tail or a damaged frame on replay (scanSegment).
 */
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

/** A whole, checksummed frame found in a segment. */
export interface ScannedRecord {
  off: number;
  len: number;
  signal: Signal;
  token: string;
}

/** Bytes between frames that are not a whole, checksummed frame. */
export interface BadRegion {
  off: number;
  len: number;
}

const HEAD = 4 + 1 + 4 + 2 + 4;

/** The frame starting at `pos`, or undefined if there is none whole and intact. */
function frameAt(buf: Buffer, pos: number): ScannedRecord | undefined {
  const left = buf.length - pos;
  if (left < HEAD + 4 || buf.compare(MAGIC, 0, 4, pos, pos + 4) !== 0) return undefined;
  const code = buf.readUInt8(pos + 4);
  if (code !== 1 && code !== 2) return undefined;
  const tlen = buf.readUInt16BE(pos + 9);
  if (HEAD + tlen + 4 > left) return undefined;
  const len = HEAD + tlen + buf.readUInt32BE(pos + 11 + tlen) + 4;
  if (len > left) return undefined;
  if ((crc32(buf.subarray(pos, pos + len - 4)) >>> 0) !== buf.readUInt32BE(pos + len - 4)) return undefined;
  return { off: pos, len, signal: code === 1 ? 'logs' : 'traces', token: buf.toString('utf8', pos + 11, pos + 11 + tlen) };
}

/**
 * Every intact frame of a segment, and the damaged regions between them.
 * After a damaged frame the scan resumes at the next magic that starts an
 * intact frame (a false magic would also need a matching checksum), so one
 * bad frame costs only itself. A region that runs to the end of the file is
 * a torn tail when the file is the one being appended to at a crash.
 */
export function scanSegment(buf: Buffer): { records: ScannedRecord[]; bad: BadRegion[] } {
  const records: ScannedRecord[] = [];
  const bad: BadRegion[] = [];
  let badStart = -1;
  let pos = 0;
  while (pos < buf.length) {
    const r = frameAt(buf, pos);
    if (r) {
      if (badStart >= 0) bad.push({ off: badStart, len: pos - badStart });
      badStart = -1;
      records.push(r);
      pos += r.len;
      continue;
    }
    if (badStart < 0) badStart = pos;
    const next = buf.indexOf(MAGIC, pos + 1);
    pos = next < 0 ? buf.length : next;
  }
  if (badStart >= 0) bad.push({ off: badStart, len: buf.length - badStart });
  return { records, bad };
}
