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
 * bytes are spliced in.
 *
 * Each record is written once, in place, into one buffer the encoder keeps
 * (room for the request's header before the first); finish() copies the
 * request out of it.
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
import { AnyValueTag, ExportLogsServiceRequestTag, KeyValueTag, LogRecordTag, ResourceLogsTag, ScopeLogsTag } from '../../core/otlp/wire-fields.gen.ts';
import { copyBytes, putVarint, varintLen } from './bytes.ts';
import { ByteBuf } from '../../core/byte-buf.ts';
import { JsonAttrScanner, PARSED, START_FALLBACK, START_NOT_OBJECT } from './json-attrs.ts';
import type { BytesParser } from './operators.ts';

/** The request's header, at most: resource_logs tag + length, empty resource, scope_logs tag + length, empty scope. */
const HEAD = 16;
/** A record's log_records tag and length as first written: a 2-byte length (records of 128 B to 16 KiB), moved if not. */
const REC_HEAD = 3;

/** LogRecord.attributes fields (tag included) of a key and a string value. */
function attribute(key: string, value: string): Buffer {
  const k = Buffer.from(key);
  const v = Buffer.from(value);
  const any = 1 + varintLen(v.length) + v.length;
  const kv = 1 + varintLen(k.length) + k.length + 1 + varintLen(any) + any;
  const out = Buffer.allocUnsafe(1 + varintLen(kv) + kv);
  let p = 0;
  out[p++] = LogRecordTag.attributes;
  p = putVarint(out, p, kv);
  out[p++] = KeyValueTag.key;
  p = putVarint(out, p, k.length);
  p += k.copy(out, p);
  out[p++] = KeyValueTag.value;
  p = putVarint(out, p, any);
  out[p++] = AnyValueTag.string_value;
  p = putVarint(out, p, v.length);
  v.copy(out, p);
  return out;
}

export class LinesEncoder {
  /** The request being written, from HEAD on; kept between requests (one encoder per receiver). */
  private readonly out = new ByteBuf(64 * 1024);
  private readonly scanner = new JsonAttrScanner();
  /** observed_time_unix_nano's field, the same for every record of a request. */
  private readonly observed = Buffer.alloc(9);
  private fileAttrs: Buffer = Buffer.alloc(0);
  private n = 0;
  private chunkBuf: Uint8Array | undefined;
  private chunkLen = 0;
  private chunkUtf8 = false;

  constructor() {
    this.reset(0n);
  }

  get count(): number {
    return this.n;
  }

  /** Empties the encoder, for a request whose records were read at `observedNanos`. */
  reset(observedNanos: bigint): void {
    this.out.pos = HEAD;
    this.n = 0;
    this.chunkBuf = undefined;
    this.observed[0] = LogRecordTag.observed_time_unix_nano;
    this.observed.writeBigUInt64LE(observedNanos, 1);
  }

  /** The attributes of the lines of one file that follow. */
  file(name: string | undefined, path: string | undefined): void {
    const parts: Buffer[] = [];
    if (name !== undefined) parts.push(attribute('log.file.name', name));
    if (path !== undefined) parts.push(attribute('log.file.path', path));
    this.fileAttrs = Buffer.concat(parts);
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
    const at = this.open(end - start, 0);
    this.body(buf, start, end);
    this.close(at);
  }

  /**
   * One line through the bytes path's JSON parser: its fields as attributes
   * when json-attrs.ts handles it exactly; a line that is not a JSON object
   * as it is (or dropped, per on_error); anything else as the record
   * `records` (the records path) makes of it, if any.
   */
  addParsedLine(buf: Buffer, start: number, end: number, parser: BytesParser, records: (line: string) => LogRecord | undefined): void {
    // The records path reads a non-UTF-8 line with U+FFFD in it, then parses that.
    const sc = this.scanner;
    const obj = this.utf8(buf, start, end) ? sc.objectStart(buf, start, end) : START_FALLBACK;
    if (obj === START_NOT_OBJECT) {
      if (!parser.drop) this.add(buf, start, end);
      return;
    }
    if (obj >= 0) {
      const withTime = parser.withTime;
      const at = this.open(end - start, 3 * (end - obj) + 64 + (withTime ? 9 : 0));
      if (withTime) this.out.pos += 9; // room for time_unix_nano, first in a LogRecord
      this.body(buf, start, end);
      if (sc.fields(buf, obj, end, this.out, withTime) === PARSED) {
        if (withTime) {
          const o = this.out.buf;
          const t = at + REC_HEAD;
          if (sc.hasTime) {
            o[t] = LogRecordTag.time_unix_nano;
            o.writeUInt32LE(sc.timeLo, t + 1);
            o.writeUInt32LE(sc.timeHi, t + 5);
          } else {
            o.copyWithin(t, t + 9, this.out.pos);
            this.out.pos -= 9;
          }
        }
        this.close(at);
        return;
      }
      this.out.pos = at;
    }
    // What the scanner does not reproduce exactly: the records path, its record's bytes spliced in.
    const rec = records(buf.toString('utf8', start, end));
    if (!rec) return;
    const fields = encodeLogRecordProto(rec);
    const out = this.out;
    out.ensure(6 + fields.length);
    out.buf[out.pos++] = ScopeLogsTag.log_records;
    out.pos = putVarint(out.buf, out.pos, fields.length);
    out.pos = copyBytes(fields, 0, fields.length, out.buf, out.pos);
    this.n++;
  }

  /** Starts a record of a `line`-byte body and up to `extra` more bytes; returns where it starts. */
  private open(line: number, extra: number): number {
    const out = this.out;
    // + 8: the record's length may need more than its 2 bytes
    out.ensure(REC_HEAD + 12 + line + this.fileAttrs.length + 9 + extra + 8);
    const at = out.pos;
    out.buf[at] = ScopeLogsTag.log_records;
    out.pos += REC_HEAD;
    return at;
  }

  /** The body (the line) and the file's attributes. */
  private body(buf: Uint8Array, start: number, end: number): void {
    const o = this.out.buf;
    const line = end - start;
    let p = this.out.pos;
    o[p++] = LogRecordTag.body;
    p = putVarint(o, p, 1 + varintLen(line) + line);
    o[p++] = AnyValueTag.string_value;
    p = putVarint(o, p, line);
    p = copyBytes(buf, start, end, o, p);
    this.out.pos = copyBytes(this.fileAttrs, 0, this.fileAttrs.length, o, p);
  }

  /** Ends the record started at `at`: the observed time, then its length (the record moved if it is not 2 bytes long). */
  private close(at: number): void {
    const out = this.out;
    const o = out.buf;
    out.pos = copyBytes(this.observed, 0, 9, o, out.pos);
    const len = out.pos - at - REC_HEAD;
    const vl = varintLen(len);
    if (vl !== REC_HEAD - 1) {
      o.copyWithin(at + 1 + vl, at + REC_HEAD, out.pos);
      out.pos += vl - (REC_HEAD - 1);
    }
    putVarint(o, at + 1, len);
    this.n++;
  }

  /** The request (a copy); the encoder is empty afterwards. */
  finish(): Uint8Array {
    const out = this.out;
    const o = out.buf;
    const scopeLen = 2 + out.pos - HEAD;
    const rlLen = 2 + 1 + varintLen(scopeLen) + scopeLen;
    let p = HEAD - (1 + varintLen(rlLen) + 2 + 1 + varintLen(scopeLen) + 2);
    const start = p;
    o[p++] = ExportLogsServiceRequestTag.resource_logs;
    p = putVarint(o, p, rlLen);
    o[p++] = ResourceLogsTag.resource; // empty
    o[p++] = 0;
    o[p++] = ResourceLogsTag.scope_logs;
    p = putVarint(o, p, scopeLen);
    o[p++] = ScopeLogsTag.scope; // empty
    o[p++] = 0;
    const request = Buffer.allocUnsafe(out.pos - start);
    o.copy(request, 0, start, out.pos);
    this.reset(0n);
    return request;
  }
}
