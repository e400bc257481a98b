/**
 * A small, strict MessagePack decoder and the few encodings the forward
 * protocol answers with. Strict and bounded because the bytes come from the
 * network: nesting depth, container lengths and str/bin/ext sizes are checked
 * against what is left and against limits before anything is allocated, and
 * a truncated object is told apart from a malformed one (`Incomplete`), so a
 * TCP reader can wait for more bytes instead of failing.
 *
 * Decoded shapes: nil → null, bool, int → bigint (OTLP's int, kept apart
 * from a float even when the float is whole), float → number, str → string (UTF-8, invalid bytes as U+FFFD), bin → Uint8Array,
 * array → unknown[], map → Map (keys of any type, in wire order), ext → Ext.
 */

export class Ext {
  constructor(readonly type: number, readonly data: Uint8Array) {}
}

/** The bytes end inside an object; `need` is a lower bound of the total bytes the object needs from the start offset. */
export class Incomplete extends Error {
  constructor(readonly need: number) {
    super('truncated msgpack');
  }
}

export class MsgpackError extends Error {}

export const MAX_DEPTH = 32;

const utf8 = new TextDecoder('utf-8');

export class Decoder {
  pos: number;
  private readonly view: DataView;

  constructor(
    private readonly buf: Uint8Array,
    start = 0,
    private readonly end = buf.length,
  ) {
    this.pos = start;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  /** Decodes one object; throws Incomplete (bytes missing) or MsgpackError (malformed). */
  decode(depth = 0): unknown {
    const b = this.byte();
    if (b <= 0x7f) return BigInt(b);
    if (b >= 0xe0) return BigInt(b - 0x100);
    if ((b & 0xf0) === 0x80) return this.map(b & 0x0f, depth);
    if ((b & 0xf0) === 0x90) return this.array(b & 0x0f, depth);
    if ((b & 0xe0) === 0xa0) return this.str(b & 0x1f);
    switch (b) {
      case 0xc0: return null;
      case 0xc2: return false;
      case 0xc3: return true;
      case 0xc4: return this.bin(this.u8());
      case 0xc5: return this.bin(this.u16());
      case 0xc6: return this.bin(this.u32());
      case 0xc7: return this.ext(this.u8());
      case 0xc8: return this.ext(this.u16());
      case 0xc9: return this.ext(this.u32());
      case 0xca: this.need(4); this.pos += 4; return this.view.getFloat32(this.pos - 4);
      case 0xcb: this.need(8); this.pos += 8; return this.view.getFloat64(this.pos - 8);
      case 0xcc: return BigInt(this.u8());
      case 0xcd: return BigInt(this.u16());
      case 0xce: return BigInt(this.u32());
      case 0xcf: return this.int64(false);
      case 0xd0: this.need(1); return BigInt(this.view.getInt8(this.pos++));
      case 0xd1: this.need(2); this.pos += 2; return BigInt(this.view.getInt16(this.pos - 2));
      case 0xd2: this.need(4); this.pos += 4; return BigInt(this.view.getInt32(this.pos - 4));
      case 0xd3: return this.int64(true);
      case 0xd4: return this.ext(1);
      case 0xd5: return this.ext(2);
      case 0xd6: return this.ext(4);
      case 0xd7: return this.ext(8);
      case 0xd8: return this.ext(16);
      case 0xd9: return this.str(this.u8());
      case 0xda: return this.str(this.u16());
      case 0xdb: return this.str(this.u32());
      case 0xdc: return this.array(this.u16(), depth);
      case 0xdd: return this.array(this.u32(), depth);
      case 0xde: return this.map(this.u16(), depth);
      case 0xdf: return this.map(this.u32(), depth);
      default: throw new MsgpackError(`invalid msgpack type byte 0x${b.toString(16)} at offset ${this.pos - 1}`);
    }
  }

  /**
   * One forward message: as decode(), except that a str in second place
   * stays raw bytes: old Fluentd senders put PackedForward entries (binary
   * msgpack) in a str, which must not go through UTF-8 decoding.
   */
  decodeMessage(): unknown {
    this.need(1);
    const b = this.buf[this.pos]!;
    if ((b & 0xf0) !== 0x90 && b !== 0xdc && b !== 0xdd) return this.decode();
    const n = this.arrayHeader();
    this.need(n);
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) {
      if (i === 1) {
        this.need(1);
        const t = this.buf[this.pos]!;
        if ((t & 0xe0) === 0xa0) {
          this.pos++;
          out[i] = this.bytes(t & 0x1f);
          continue;
        }
        if (t === 0xd9 || t === 0xda || t === 0xdb) {
          this.pos++;
          out[i] = this.bytes(t === 0xd9 ? this.u8() : t === 0xda ? this.u16() : this.u32());
          continue;
        }
      }
      out[i] = this.decode(1);
    }
    return out;
  }

  /** Reads an array header only (for the outer frame); returns its length. */
  arrayHeader(): number {
    const b = this.byte();
    if ((b & 0xf0) === 0x90) return b & 0x0f;
    if (b === 0xdc) return this.u16();
    if (b === 0xdd) return this.u32();
    throw new MsgpackError(`expected an array, got type byte 0x${b.toString(16)}`);
  }

  private need(n: number): void {
    if (this.pos + n > this.end) throw new Incomplete(this.pos + n);
  }

  private byte(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  private u8(): number {
    return this.byte();
  }

  private u16(): number {
    this.need(2);
    this.pos += 2;
    return this.view.getUint16(this.pos - 2);
  }

  private u32(): number {
    this.need(4);
    this.pos += 4;
    return this.view.getUint32(this.pos - 4);
  }

  private int64(signed: boolean): bigint {
    this.need(8);
    this.pos += 8;
    return signed ? this.view.getBigInt64(this.pos - 8) : this.view.getBigUint64(this.pos - 8);
  }

  private bytes(n: number): Uint8Array {
    this.need(n);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  private str(n: number): string {
    return utf8.decode(this.bytes(n));
  }

  private bin(n: number): Uint8Array {
    return this.bytes(n);
  }

  private ext(n: number): Ext {
    this.need(1);
    const type = this.view.getInt8(this.pos++);
    return new Ext(type, this.bytes(n));
  }

  private array(n: number, depth: number): unknown[] {
    if (depth >= MAX_DEPTH) throw new MsgpackError(`msgpack nested deeper than ${MAX_DEPTH}`);
    // Every element takes at least one byte: a length beyond what is left is truncation, never an allocation.
    this.need(n);
    const out = new Array<unknown>(n);
    for (let i = 0; i < n; i++) out[i] = this.decode(depth + 1);
    return out;
  }

  private map(n: number, depth: number): Map<unknown, unknown> {
    if (depth >= MAX_DEPTH) throw new MsgpackError(`msgpack nested deeper than ${MAX_DEPTH}`);
    this.need(2 * n);
    const out = new Map<unknown, unknown>();
    for (let i = 0; i < n; i++) {
      const k = this.decode(depth + 1);
      out.set(k, this.decode(depth + 1));
    }
    return out;
  }
}

/** Decodes exactly one object filling `buf` (a PackedForward stream is decoded with Decoder in a loop). */
export function decodeOne(buf: Uint8Array): unknown {
  const d = new Decoder(buf);
  const v = d.decode();
  if (d.pos !== buf.length) throw new MsgpackError(`${buf.length - d.pos} bytes after the msgpack object`);
  return v;
}

// ------------------------------------------------------------------ encoding

export type Encodable = null | boolean | number | string | Uint8Array | Encodable[] | { [k: string]: Encodable };

/** Encodes the small control messages the receiver sends (HELO, PONG, ack); not a hot path. */
export function encode(v: Encodable): Buffer {
  const parts: Buffer[] = [];
  put(v, parts);
  return Buffer.concat(parts);
}

function header(parts: Buffer[], n: number, fix: number, fixMax: number, c16: number, c32: number): void {
  if (n <= fixMax) parts.push(Buffer.from([fix | n]));
  else if (n <= 0xffff) parts.push(Buffer.from([c16, n >> 8, n & 0xff]));
  else {
    const b = Buffer.alloc(5);
    b[0] = c32;
    b.writeUInt32BE(n, 1);
    parts.push(b);
  }
}

function put(v: Encodable, parts: Buffer[]): void {
  if (v === null) parts.push(Buffer.from([0xc0]));
  else if (typeof v === 'boolean') parts.push(Buffer.from([v ? 0xc3 : 0xc2]));
  else if (typeof v === 'number') {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) {
      const b = Buffer.alloc(9);
      b[0] = 0xcb;
      b.writeDoubleBE(v, 1);
      parts.push(b);
    } else if (v <= 0x7f) parts.push(Buffer.from([v]));
    else {
      const b = Buffer.alloc(5);
      b[0] = 0xce;
      b.writeUInt32BE(v, 1);
      parts.push(b);
    }
  } else if (typeof v === 'string') {
    const s = Buffer.from(v, 'utf8');
    if (s.length <= 31) parts.push(Buffer.from([0xa0 | s.length]));
    else if (s.length <= 0xff) parts.push(Buffer.from([0xd9, s.length]));
    else header(parts, s.length, 0, -1, 0xda, 0xdb);
    parts.push(s);
  } else if (v instanceof Uint8Array) {
    if (v.length <= 0xff) parts.push(Buffer.from([0xc4, v.length]));
    else header(parts, v.length, 0, -1, 0xc5, 0xc6);
    parts.push(Buffer.from(v));
  } else if (Array.isArray(v)) {
    header(parts, v.length, 0x90, 15, 0xdc, 0xdd);
    for (const x of v) put(x, parts);
  } else {
    const keys = Object.keys(v);
    header(parts, keys.length, 0x80, 15, 0xde, 0xdf);
    for (const k of keys) {
      put(k, parts);
      put(v[k]!, parts);
    }
  }
}
