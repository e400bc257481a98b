/**
 * Lines straight into an OTLP ExportLogsServiceRequest, for a filelog with
 * no operators: each line's bytes are copied from the read buffer into the
 * request, with no LogRecord object, JS string or attribute array made per
 * line (what the next stages read as bytes, the agent's otlp exporter and
 * its queue, then never builds records at all). One ResourceLogs with an
 * empty resource, one ScopeLogs with an empty scope, as the Collector's
 * filelog; per record: body (string), the file attributes, observed time.
 *
 * Field numbers (opentelemetry/proto/logs/v1, collector/logs/v1):
 * request.resource_logs = 1; ResourceLogs.scope_logs = 2; ScopeLogs.log_records = 2;
 * LogRecord.body = 5, attributes = 6, observed_time_unix_nano = 11 (fixed64);
 * KeyValue.key = 1, value = 2; AnyValue.string_value = 1.
 * Lines that are not valid UTF-8 are sent with U+FFFD in place of the bad
 * bytes, as the records path (Buffer.toString) does.
 */
import { isUtf8 } from 'node:buffer';

const varintLen = (n: number) => (n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5);

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

function putVarint(b: Uint8Array, p: number, n: number): number {
  while (n >= 0x80) {
    b[p++] = (n & 0x7f) | 0x80;
    n >>>= 7;
  }
  b[p++] = n;
  return p;
}

export class LinesEncoder {
  private bufs: Uint8Array[] = [];
  private starts: number[] = [];
  private ends: number[] = [];
  /** Index into `attrs` of each line's attributes (file name / path, one set per file). */
  private attrIdx: number[] = [];
  private attrs: Uint8Array[][] = [];

  get count(): number {
    return this.starts.length;
  }

  /** The attributes of the lines of one file that follow. */
  file(name: string | undefined, path: string | undefined): void {
    const kvs: Uint8Array[] = [];
    if (name !== undefined) kvs.push(keyValue('log.file.name', name));
    if (path !== undefined) kvs.push(keyValue('log.file.path', path));
    this.attrs.push(kvs);
  }

  /** One line: buf[start, end). */
  add(buf: Uint8Array, start: number, end: number): void {
    if (!isUtf8(buf.subarray(start, end))) {
      buf = Buffer.from(Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('utf8'));
      end = buf.length;
      start = 0;
    }
    if (this.bufs[this.bufs.length - 1] !== buf) this.bufs.push(buf);
    this.starts.push(start);
    this.ends.push(end);
    this.attrIdx.push(this.bufs.length - 1, this.attrs.length - 1);
  }

  /** The request; the encoder is empty afterwards. */
  finish(observedNanos: bigint): Uint8Array {
    const n = this.starts.length;
    const recLen = new Array<number>(n);
    let scopeLen = 0;
    for (let i = 0; i < n; i++) {
      const line = this.ends[i]! - this.starts[i]!;
      const any = 1 + varintLen(line) + line;
      let len = 1 + varintLen(any) + any + 9;
      for (const kv of this.attrs[this.attrIdx[2 * i + 1]!]!) len += 1 + varintLen(kv.length) + kv.length;
      recLen[i] = len;
      scopeLen += 1 + varintLen(len) + len;
    }
    const rlLen = 1 + varintLen(scopeLen) + scopeLen;
    const total = 1 + varintLen(rlLen) + rlLen;
    const out = Buffer.allocUnsafe(total);
    let p = 0;
    out[p++] = 0x0a; // resource_logs
    p = putVarint(out, p, rlLen);
    out[p++] = 0x12; // scope_logs
    p = putVarint(out, p, scopeLen);
    for (let i = 0; i < n; i++) {
      const buf = this.bufs[this.attrIdx[2 * i]!]!;
      const s = this.starts[i]!;
      const line = this.ends[i]! - s;
      out[p++] = 0x12; // log_records
      p = putVarint(out, p, recLen[i]!);
      out[p++] = 0x2a; // body
      p = putVarint(out, p, 1 + varintLen(line) + line);
      out[p++] = 0x0a; // string_value
      p = putVarint(out, p, line);
      out.set(buf.subarray(s, s + line), p);
      p += line;
      for (const kv of this.attrs[this.attrIdx[2 * i + 1]!]!) {
        out[p++] = 0x32; // attributes
        p = putVarint(out, p, kv.length);
        out.set(kv, p);
        p += kv.length;
      }
      out[p++] = 0x59; // observed_time_unix_nano, fixed64
      out.writeBigUInt64LE(observedNanos, p);
      p += 8;
    }
    this.bufs = [];
    this.starts = [];
    this.ends = [];
    this.attrIdx = [];
    this.attrs = [];
    return out;
  }
}
