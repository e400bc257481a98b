/**
 * Lumberjack frames (the protocol of Filebeat's and Logstash's `logstash`
 * outputs). Every frame is a version byte ('1' or '2'), a type byte, then:
 *   'W' window size   uint32: events the sender will send before it waits for an ACK
 *   'J' JSON event    uint32 seq, uint32 length, JSON bytes            (v2)
 *   'D' data          uint32 seq, uint32 pair count, then per pair
 *                     uint32 key length, key, uint32 value length, value  (v1, also read in v2)
 *   'C' compressed    uint32 length, zlib stream holding more frames
 *   'A' ACK           uint32 seq: the server's answer, cumulative over the window
 * All integers big-endian. Anything else is a protocol error (the connection
 * is closed: there is no way to resynchronise a byte stream).
 */

export class ProtocolError extends Error {
  override readonly name = 'ProtocolError';
}

export type Frame =
  | { type: 'W'; version: number; size: number }
  | { type: 'J'; version: number; seq: number; payload: Buffer }
  | { type: 'D'; version: number; seq: number; pairs: [string, string][]; bytes: number }
  | { type: 'C'; version: number; payload: Buffer };

const V1 = 0x31;
const V2 = 0x32;
const T_WINDOW = 0x57; // W
const T_JSON = 0x4a; // J
const T_DATA = 0x44; // D
const T_COMPRESSED = 0x43; // C
const T_ACK = 0x41; // A

/** The ACK frame for `seq`, in the sender's protocol version. */
export function ackFrame(version: number, seq: number): Buffer {
  const b = Buffer.allocUnsafe(6);
  b[0] = version;
  b[1] = T_ACK;
  b.writeUInt32BE(seq >>> 0, 2);
  return b;
}

function check(buf: Buffer, off: number): number {
  const v = buf[off]!;
  if (v !== V1 && v !== V2) throw new ProtocolError(`unknown protocol version byte 0x${v.toString(16)} (Lumberjack v1 '1' or v2 '2' expected)`);
  return v;
}

/**
 * Bytes the frame at `buf[off]` occupies, when its header says so; undefined
 * while the header is incomplete; -1 for a data frame ('D'), whose size is
 * only known by walking it. Throws ProtocolError for an unknown or oversized frame.
 */
export function frameSize(buf: Buffer, off: number, avail: number, max: number): number | undefined {
  if (avail < 2) return undefined;
  check(buf, off);
  const t = buf[off + 1]!;
  switch (t) {
    case T_WINDOW:
      return 6;
    case T_JSON: {
      if (avail < 10) return undefined;
      const len = buf.readUInt32BE(off + 6);
      if (len > max) throw new ProtocolError(`JSON frame of ${len} bytes exceeds max_message_size ${max}`);
      return 10 + len;
    }
    case T_COMPRESSED: {
      if (avail < 6) return undefined;
      const len = buf.readUInt32BE(off + 2);
      if (len > max) throw new ProtocolError(`compressed frame of ${len} bytes exceeds max_message_size ${max}`);
      return 6 + len;
    }
    case T_DATA:
      return -1;
    case T_ACK:
      throw new ProtocolError('an ACK frame from the sender (only the receiver ACKs)');
    default:
      throw new ProtocolError(`unknown frame type 0x${t.toString(16)}`);
  }
}

/** The data frame at `buf[off]`, or undefined when `buf` ends before it does. */
function dataFrame(buf: Buffer, off: number, version: number, max: number): [Frame, number] | undefined {
  let p = off + 2;
  if (buf.length < p + 8) return undefined;
  const seq = buf.readUInt32BE(p);
  const count = buf.readUInt32BE(p + 4);
  p += 8;
  const pairs: [string, string][] = [];
  for (let i = 0; i < count; i++) {
    const kv: string[] = [];
    for (let j = 0; j < 2; j++) {
      if (buf.length < p + 4) return undefined;
      const len = buf.readUInt32BE(p);
      p += 4;
      if (p - off + len > max) throw new ProtocolError(`data frame exceeds max_message_size ${max}`);
      if (buf.length < p + len) return undefined;
      kv.push(buf.toString('utf8', p, p + len));
      p += len;
    }
    pairs.push([kv[0]!, kv[1]!]);
  }
  return [{ type: 'D', version, seq, pairs, bytes: p - off }, p];
}

/**
 * The frame at `buf[off]` and where it ends, or undefined when `buf` holds
 * only part of it.
 */
export function parseFrame(buf: Buffer, off: number, max: number): [Frame, number] | undefined {
  const size = frameSize(buf, off, buf.length - off, max);
  if (size === undefined) return undefined;
  const version = buf[off]!;
  if (size === -1) return dataFrame(buf, off, version, max);
  if (buf.length - off < size) return undefined;
  const end = off + size;
  switch (buf[off + 1]) {
    case T_WINDOW:
      return [{ type: 'W', version, size: buf.readUInt32BE(off + 2) }, end];
    case T_JSON:
      return [{ type: 'J', version, seq: buf.readUInt32BE(off + 2), payload: buf.subarray(off + 10, end) }, end];
    default:
      return [{ type: 'C', version, payload: buf.subarray(off + 6, end) }, end];
  }
}

/** A FIFO of received chunks: frames are cut out of it without copying the stream again and again. */
export class ByteQueue {
  private chunks: Buffer[] = [];
  length = 0;

  push(b: Buffer): void {
    this.chunks.push(b);
    this.length += b.length;
  }

  /** The first `n` bytes (n ≤ length) as one buffer, joining chunks only when they straddle. */
  peek(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length >= n) return first;
    const joined = Buffer.concat(this.chunks, this.length);
    this.chunks = [joined];
    return joined;
  }

  skip(n: number): void {
    this.length -= n;
    while (n > 0) {
      const first = this.chunks[0]!;
      if (first.length <= n) {
        this.chunks.shift();
        n -= first.length;
      } else {
        this.chunks[0] = first.subarray(n);
        n = 0;
      }
    }
  }

  /** The whole queue as one buffer (bounded by the caller). */
  all(): Buffer {
    return this.length === 0 ? Buffer.alloc(0) : this.peek(this.length);
  }
}

/**
 * The next whole frame of `q` (removed from it), or undefined until more
 * bytes arrive. Payloads are copied out, so the frame never pins the stream.
 */
export function nextFrame(q: ByteQueue, max: number): Frame | undefined {
  if (q.length < 2) return undefined;
  const head = q.peek(Math.min(q.length, 10));
  const size = frameSize(head, 0, Math.min(q.length, head.length), max);
  if (size === undefined) return undefined;
  if (size === -1) {
    const got = parseFrame(q.all(), 0, max);
    if (!got) {
      if (q.length > max) throw new ProtocolError(`data frame exceeds max_message_size ${max}`);
      return undefined;
    }
    q.skip(got[1]);
    return got[0];
  }
  if (q.length < size) return undefined;
  const buf = Buffer.from(q.peek(size).subarray(0, size));
  q.skip(size);
  return parseFrame(buf, 0, max)![0];
}
