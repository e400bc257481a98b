/**
 * Lines straight into an OTLP ExportLogsServiceRequest, for a filelog with
 * no operators or one JSON parser (json-attrs.ts): each line's bytes are
 * copied from the read buffer into the request, with no LogRecord object,
 * JS string or attribute array made per line (what the next stages read as
 * bytes, the agent's otlp exporter and its queue, then never builds records
 * at all). The bytes are those encodeLogsProto writes for the records the
 * records path makes of the same lines: one ResourceLogs with an empty
 * resource, one ScopeLogs with an empty scope, as the Collector's filelog;
 * per record: time (a parsed START_TIME), body (string), the file
 * attributes, the parsed fields, observed time. A line the JSON scanner
 * does not handle is made a record by the records path and its encoded
 * bytes are spliced in (addRecord).
 *
 * Field numbers (opentelemetry/proto/logs/v1, collector/logs/v1):
 * request.resource_logs = 1; ResourceLogs.resource = 1, scope_logs = 2;
 * ScopeLogs.scope = 1, log_records = 2; LogRecord.time_unix_nano = 1
 * (fixed64), body = 5, attributes = 6, observed_time_unix_nano = 11
 * (fixed64); KeyValue.key = 1, value = 2; AnyValue.string_value = 1.
 * Lines that are not valid UTF-8 are sent with U+FFFD in place of the bad
 * bytes, as the records path (Buffer.toString) does.
 */
import { isUtf8 } from 'node:buffer';
import type { LogRecord } from '../../core/model.ts';
import { encodeLogRecordProto } from '../../core/otlp/logs-proto.ts';
import { ByteBuf, FALLBACK, JsonAttrScanner, NOT_OBJECT, PARSED, copyBytes, putVarint, varintLen } from './json-attrs.ts';
import type { BytesParser } from './operators.ts';

/** key + string value, as a KeyValue message's bytes. */
function keyValue(key: string, value: string): Uint8Array {
  const k = Buffer.from(key);
  const v = Buffer.from(value);
  const any = 1 + varintLen(v.length) + v.length;
  const out = Buffer.allocUnsafe(1 + varintLen(k.length) + k.length + 1 + varintLen(any) + any);
  let p = 0;
  out[p++] = 0x0a;
  p = putVarint(out, p, k.length);
  p += k.copy(out, p);
  out[p++] = 0x12;
  p = putVarint(out, p, any);
  out[p++] = 0x0a;
  p = putVarint(out, p, v.length);
  v.copy(out, p);
  return out;
}

/** A record of the request: a line as its body (with parsed fields in `side`), or a whole encoded record in `side`. */
const LINE = 0;
const RECORD = 1;

export class LinesEncoder {
  private bufs: Uint8Array[] = [];
  private starts: number[] = [];
  private ends: number[] = [];
  /** Per record: [index into bufs, index into attrs, kind, side start, side middle, side end]. */
  private meta: number[] = [];
  private attrs: Uint8Array[][] = [];
  /**
   * Bytes made per record, kept between requests (one encoder per receiver):
   * a LINE's time field in [start, middle) and parsed attributes in
   * [middle, end); a RECORD's encoded fields in [start, end).
   */
  private readonly side = new ByteBuf();
  private readonly scanner = new JsonAttrScanner();
  private n = 0;
  private chunkBuf: Uint8Array | undefined;
  private chunkLen = 0;
  private chunkUtf8 = false;

  get count(): number {
    return this.n;
  }

  /** Empties the encoder (finish() does too). */
  reset(): void {
    this.bufs = [];
    this.starts = [];
    this.ends = [];
    this.meta = [];
    this.attrs = [];
    this.side.pos = 0;
    this.n = 0;
    this.chunkBuf = undefined;
  }

  /** The attributes of the lines of one file that follow. */
  file(name: string | undefined, path: string | undefined): void {
    const kvs: Uint8Array[] = [];
    if (name !== undefined) kvs.push(keyValue('log.file.name', name));
    if (path !== undefined) kvs.push(keyValue('log.file.path', path));
    this.attrs.push(kvs);
  }

  /**
   * The chunk of a file the lines that follow are cut from: checked for
   * UTF-8 once, so that a line of it needs its own check only at its ends.
   */
  chunk(buf: Uint8Array, len: number): void {
    this.chunkBuf = buf;
    this.chunkLen = len;
    this.chunkUtf8 = isUtf8(buf.subarray(0, len));
  }

  /** Whether buf[start, end) is valid UTF-8. */
  private utf8(buf: Uint8Array, start: number, end: number): boolean {
    // A part of valid UTF-8 is valid when it starts and ends on a character's boundary (not before a continuation byte).
    if (buf === this.chunkBuf && this.chunkUtf8 && end <= this.chunkLen && (buf[start]! & 0xc0) !== 0x80 && (end === this.chunkLen || (buf[end]! & 0xc0) !== 0x80)) return true;
    return isUtf8(buf.subarray(start, end));
  }

  /** One line: buf[start, end). */
  add(buf: Uint8Array, start: number, end: number): void {
    if (!this.utf8(buf, start, end)) {
      buf = Buffer.from(Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8'));
      end = buf.length;
      start = 0;
    }
    this.line(buf, start, end, this.side.pos, this.side.pos);
  }

  private line(buf: Uint8Array, start: number, end: number, sideStart: number, sideMiddle: number): void {
    if (this.bufs[this.bufs.length - 1] !== buf) this.bufs.push(buf);
    this.starts.push(start);
    this.ends.push(end);
    this.meta.push(this.bufs.length - 1, this.attrs.length - 1, LINE, sideStart, sideMiddle, this.side.pos);
    this.n++;
  }

  /**
   * One line through the bytes path's JSON parser: its fields as attributes
   * when json-attrs.ts handles it exactly; a line that is not a JSON object
   * as it is (or dropped, per on_error); anything else as the record
   * `records` (the records path) makes of it, if any.
   */
  addParsedLine(buf: Buffer, start: number, end: number, parser: BytesParser, records: (line: string) => LogRecord | undefined): void {
    const r = this.addJson(buf, start, end, parser.withTime);
    if (r === PARSED) return;
    if (r === NOT_OBJECT) {
      if (!parser.drop) this.line(buf, start, end, this.side.pos, this.side.pos);
      return;
    }
    const rec = records(buf.toString('utf8', start, end));
    if (rec) this.addRecord(encodeLogRecordProto(rec));
  }

  /**
   * One line whose JSON-object fields become attributes (START_TIME the time
   * with `withTime`), when json-attrs.ts handles it exactly. Returns PARSED
   * (added), NOT_OBJECT or FALLBACK (nothing added: the caller decides).
   */
  private addJson(buf: Buffer, start: number, end: number, withTime: boolean): number {
    // The records path reads a non-UTF-8 line with U+FFFD in it, then parses that.
    if (!this.utf8(buf, start, end)) return FALLBACK;
    const side = this.side;
    side.ensure(9);
    const at = side.pos;
    if (withTime) side.pos += 9; // the time field's room, used only if START_TIME gives one
    const r = this.scanner.scan(buf, start, end, side, withTime);
    if (r !== PARSED) {
      side.pos = at;
      return r;
    }
    const sc = this.scanner;
    if (withTime && sc.hasTime) {
      side.buf[at] = 0x09; // time_unix_nano, fixed64
      side.buf.writeUInt32LE(sc.timeLo, at + 1);
      side.buf.writeUInt32LE(sc.timeHi, at + 5);
      this.line(buf, start, end, at, at + 9);
    } else this.line(buf, start, end, at + (withTime ? 9 : 0), at + (withTime ? 9 : 0));
    return PARSED;
  }

  /** One record made by the records path: its LogRecord fields as encodeLogRecordProto wrote them. */
  private addRecord(fields: Uint8Array): void {
    const side = this.side;
    side.ensure(fields.length);
    const at = side.pos;
    side.buf.set(fields, at);
    side.pos += fields.length;
    this.starts.push(0);
    this.ends.push(0);
    this.meta.push(0, 0, RECORD, at, at, side.pos);
    this.n++;
  }

  /** The request; the encoder is empty afterwards. */
  finish(observedNanos: bigint): Uint8Array {
    const n = this.n;
    const meta = this.meta;
    const recLen = new Array<number>(n);
    let scopeLen = 2; // the empty scope
    for (let i = 0; i < n; i++) {
      const m = 6 * i;
      let len: number;
      if (meta[m + 2] === RECORD) len = meta[m + 5]! - meta[m + 3]!;
      else {
        const line = this.ends[i]! - this.starts[i]!;
        const any = 1 + varintLen(line) + line;
        len = 1 + varintLen(any) + any + 9 + (meta[m + 5]! - meta[m + 3]!);
        const kvs = this.attrs[meta[m + 1]!]!;
        for (let j = 0; j < kvs.length; j++) len += 1 + varintLen(kvs[j]!.length) + kvs[j]!.length;
      }
      recLen[i] = len;
      scopeLen += 1 + varintLen(len) + len;
    }
    const rlLen = 2 + 1 + varintLen(scopeLen) + scopeLen;
    const total = 1 + varintLen(rlLen) + rlLen;
    const out = Buffer.allocUnsafe(total);
    const side = this.side.buf;
    let p = 0;
    out[p++] = 0x0a; // resource_logs
    p = putVarint(out, p, rlLen);
    out[p++] = 0x0a; // resource, empty
    out[p++] = 0;
    out[p++] = 0x12; // scope_logs
    p = putVarint(out, p, scopeLen);
    out[p++] = 0x0a; // scope, empty
    out[p++] = 0;
    for (let i = 0; i < n; i++) {
      const m = 6 * i;
      out[p++] = 0x12; // log_records
      p = putVarint(out, p, recLen[i]!);
      const s0 = meta[m + 3]!;
      const s1 = meta[m + 4]!;
      const s2 = meta[m + 5]!;
      if (meta[m + 2] === RECORD) {
        p = copyBytes(side, s0, s2, out, p);
        continue;
      }
      p = copyBytes(side, s0, s1, out, p); // time_unix_nano, if any
      const buf = this.bufs[meta[m]!]!;
      const s = this.starts[i]!;
      const line = this.ends[i]! - s;
      out[p++] = 0x2a; // body
      p = putVarint(out, p, 1 + varintLen(line) + line);
      out[p++] = 0x0a; // string_value
      p = putVarint(out, p, line);
      p = copyBytes(buf, s, s + line, out, p);
      const kvs = this.attrs[meta[m + 1]!]!;
      for (let j = 0; j < kvs.length; j++) {
        const kv = kvs[j]!;
        out[p++] = 0x32; // attributes
        p = putVarint(out, p, kv.length);
        p = copyBytes(kv, 0, kv.length, out, p);
      }
      p = copyBytes(side, s1, s2, out, p); // parsed attributes
      out[p++] = 0x59; // observed_time_unix_nano, fixed64
      out.writeBigUInt64LE(observedNanos, p);
      p += 8;
    }
    this.reset();
    return out;
  }
}
