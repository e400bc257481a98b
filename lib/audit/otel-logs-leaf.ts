/**
 * The canonical bytes of an otel_logs row as a leaf of its Merkle log
 * (merkle-log.ts, the clickhouse exporter's `integrity`). The entry has the
 * audit leaf's layout (leaf.ts, version 1), so proofs, recovery and
 * `trailhouse verify` are the audit trail's:
 *
 *   str(s) = u32be(UTF-8 byte length) ‖ UTF-8 bytes
 *   body   = the row's RowBinary (ClickHouse's RowBinary format) of
 *            TimestampTime, TraceId, SpanId, TraceFlags, ResourceSchemaUrl,
 *            mapKeys(ResourceAttributes), mapValues(ResourceAttributes),
 *            ScopeSchemaUrl, ScopeName, ScopeVersion,
 *            mapKeys(ScopeAttributes), mapValues(ScopeAttributes), Body,
 *            mapKeys(LogAttributes), mapValues(LogAttributes), EventName
 *            (every column but the four below, in the table's order, a Map
 *            as its keys and its values): what `SELECT those FROM otel_logs
 *            FORMAT RowBinary` returns for the row — DateTime u32le, UInt8
 *            one byte, String LEB128 length ‖ bytes, Array(String) LEB128
 *            count ‖ strings, in stored order
 *   entry  = 0x01 ‖ str(LogOrigin) ‖ u64be(LogIndex) ‖ i64be(Timestamp, ns)
 *            ‖ str(SeverityText) ‖ str(SeverityNumber in decimal) ‖ str(ServiceName)
 *            ‖ SHA-256(body)
 *   leaf   = SHA-256(0x00 ‖ entry)
 *
 * Why RowBinary for the body: the exporter already holds each value in
 * that form (a Native String column is RowBinary strings back to back, a
 * Map column its keys and its values apart), so a covered row costs a copy
 * per column and a hash, and an auditor gets the very bytes from one
 * query. Map order is the stored order (ClickHouse keeps it).
 * The header columns (time, severity, service) are outside the body hash
 * for the audit leaf's reason: the leaves table keeps them, so an expired
 * row's leaf can still be recomputed.
 */
import { hexSha256, latin1Sha256 } from '../tlog/hash.ts';
import type { LogColumns, LogRowHook, MapColumn } from '../clickhouse/native.ts';
import { LEAF_VERSION } from './leaf.ts';

/** Sink positions taken before a covered row is written (begin) and read after (end). */
const M_TRACEID = 0;
const M_SPANID = 1;
const M_SEVTEXT = 2;
const M_SERVICE = 3;
const M_RESSCHEMA = 4;
const M_RESKEYS = 5;
const M_RESVALUES = 6;
const M_SCOPESCHEMA = 7;
const M_SCOPENAME = 8;
const M_SCOPEVERSION = 9;
const M_SCOPEKEYS = 10;
const M_SCOPEVALUES = 11;
const M_BODY = 12;
const M_LOGKEYS = 13;
const M_LOGVALUES = 14;
const M_EVENTNAME = 15;
const M_RESCOUNT = 16;
const M_SCOPECOUNT = 17;
const M_LOGCOUNT = 18;
const M_SIZE = 19;

/** Scratch for one body; grows as needed. */
let scratch = Buffer.allocUnsafe(4096);

function room(w: number, n: number): void {
  if (w + n <= scratch.length) return;
  const more = Buffer.allocUnsafe(Math.max(2 * scratch.length, w + n));
  scratch.copy(more, 0, 0, w);
  scratch = more;
}

/** Copies `src[from, to)` to the scratch at `w` (short runs in JS: a native call costs more). */
function copy(src: Buffer, from: number, to: number, w: number): number {
  const n = to - from;
  room(w, n);
  if (n <= 32) for (let k = 0; k < n; k++) scratch[w + k] = src[from + k]!;
  else src.copy(scratch, w, from, to);
  return w + n;
}

/** LEB128 `v` at the scratch's `w`. */
function leb(v: number, w: number): number {
  room(w, 5);
  while (v >= 0x80) {
    scratch[w++] = (v & 0x7f) | 0x80;
    v >>>= 7;
  }
  scratch[w++] = v;
  return w;
}

/**
 * A Map value as mapKeys(m), mapValues(m) in RowBinary (two Array(String)):
 * the row's keys and its values each lie together in the Native column,
 * so each is one copy.
 */
function map(m: MapColumn, kp: number, vp: number, count: number, w: number): number {
  w = leb(count, w);
  w = copy(m.keys.buf, kp, m.keys.pos, w);
  w = leb(count, w);
  return copy(m.values.buf, vp, m.values.pos, w);
}

/**
 * The covered rows of one block, collected while the walk writes them: for
 * each its row number, the tail of its entry (Timestamp … SHA-256(body))
 * and its body hash in hex (the LogBodyHash column). One per batch.
 */
export class OtelLogsLeaves implements LogRowHook {
  /** Row numbers (in the block) of the covered rows. */
  rows = new Int32Array(64);
  count = 0;
  /** Entry tails back to back; tail k is tails[tailAt[k], tailAt[k + 1]). */
  tails = Buffer.allocUnsafe(4096);
  tailAt = new Int32Array(65);
  bodyHex: string[] = [];
  private readonly m = new Int32Array(M_SIZE);

  constructor(private readonly services: ReadonlySet<string>) {}

  covers(service: string): boolean {
    return this.services.has(service);
  }

  begin(c: LogColumns): void {
    const m = this.m;
    m[M_TRACEID] = c.traceId.pos;
    m[M_SPANID] = c.spanId.pos;
    m[M_SEVTEXT] = c.sevText.pos;
    m[M_SERVICE] = c.service.pos;
    m[M_RESSCHEMA] = c.resSchema.pos;
    m[M_RESKEYS] = c.resAttrs.keys.pos;
    m[M_RESVALUES] = c.resAttrs.values.pos;
    m[M_RESCOUNT] = c.resAttrs.offsets.total;
    m[M_SCOPESCHEMA] = c.scopeSchema.pos;
    m[M_SCOPENAME] = c.scopeName.pos;
    m[M_SCOPEVERSION] = c.scopeVersion.pos;
    m[M_SCOPEKEYS] = c.scopeAttrs.keys.pos;
    m[M_SCOPEVALUES] = c.scopeAttrs.values.pos;
    m[M_SCOPECOUNT] = c.scopeAttrs.offsets.total;
    m[M_BODY] = c.body.pos;
    m[M_LOGKEYS] = c.logAttrs.keys.pos;
    m[M_LOGVALUES] = c.logAttrs.values.pos;
    m[M_LOGCOUNT] = c.logAttrs.offsets.total;
    m[M_EVENTNAME] = c.eventName.pos;
  }

  end(c: LogColumns): void {
    const m = this.m;
    const i = c.rows - 1;
    // The body, in RowBinary, from what the walk just wrote.
    room(0, 5);
    scratch.writeUInt32LE(c.tsTime[i]!, 0);
    let w = 4;
    w = copy(c.traceId.buf, m[M_TRACEID]!, c.traceId.pos, w);
    w = copy(c.spanId.buf, m[M_SPANID]!, c.spanId.pos, w);
    scratch[w++] = c.flags[i]!;
    w = copy(c.resSchema.buf, m[M_RESSCHEMA]!, c.resSchema.pos, w);
    w = map(c.resAttrs, m[M_RESKEYS]!, m[M_RESVALUES]!, c.resAttrs.offsets.total - m[M_RESCOUNT]!, w);
    w = copy(c.scopeSchema.buf, m[M_SCOPESCHEMA]!, c.scopeSchema.pos, w);
    w = copy(c.scopeName.buf, m[M_SCOPENAME]!, c.scopeName.pos, w);
    w = copy(c.scopeVersion.buf, m[M_SCOPEVERSION]!, c.scopeVersion.pos, w);
    w = map(c.scopeAttrs, m[M_SCOPEKEYS]!, m[M_SCOPEVALUES]!, c.scopeAttrs.offsets.total - m[M_SCOPECOUNT]!, w);
    w = copy(c.body.buf, m[M_BODY]!, c.body.pos, w);
    w = map(c.logAttrs, m[M_LOGKEYS]!, m[M_LOGVALUES]!, c.logAttrs.offsets.total - m[M_LOGCOUNT]!, w);
    w = copy(c.eventName.buf, m[M_EVENTNAME]!, c.eventName.pos, w);
    this.add(i, c, hexSha256(scratch.subarray(0, w)));
  }

  /** Records row `i`'s entry tail: i64be(Timestamp) ‖ str(SeverityText) ‖ str(SeverityNumber) ‖ str(ServiceName) ‖ body hash. */
  private add(i: number, c: LogColumns, bodyHex: string): void {
    const k = this.count++;
    if (k + 1 >= this.rows.length) {
      const rows = new Int32Array(2 * this.rows.length);
      rows.set(this.rows);
      this.rows = rows;
      const at = new Int32Array(2 * this.tailAt.length);
      at.set(this.tailAt);
      this.tailAt = at;
    }
    this.rows[k] = i;
    const m = this.m;
    const sev = SEVERITY[c.sevNum[i]!]!;
    const sevFrom = m[M_SEVTEXT]!;
    const sevTo = c.sevText.pos;
    const svcFrom = m[M_SERVICE]!;
    const svcTo = c.service.pos;
    let w = this.tailAt[k]!;
    const need = w + 8 + 12 + (sevTo - sevFrom) + sev.length + (svcTo - svcFrom) + 32;
    if (need > this.tails.length) {
      const more = Buffer.allocUnsafe(Math.max(2 * this.tails.length, need));
      this.tails.copy(more, 0, 0, w);
      this.tails = more;
    }
    const t = this.tails;
    t.writeBigInt64BE(c.ts64[i]!, w);
    w += 8;
    w = lenStr(t, c.sevText.buf, sevFrom, sevTo, w);
    t.writeUInt32BE(sev.length, w);
    w += 4;
    for (let j = 0; j < sev.length; j++) t[w++] = sev.charCodeAt(j);
    w = lenStr(t, c.service.buf, svcFrom, svcTo, w);
    w += t.write(bodyHex, w, 'hex');
    this.tailAt[k + 1] = w;
    this.bodyHex.push(bodyHex);
  }

  /** Leaf hashes (latin1) of the covered rows at indexes first, first + 1, … of `origin`. */
  leaves(origin: string, first: number): string[] {
    const o = Buffer.from(origin, 'utf8');
    const out = new Array<string>(this.count);
    let buf = Buffer.allocUnsafe(256 + o.length);
    buf[0] = 0x00;
    buf[1] = LEAF_VERSION;
    buf.writeUInt32BE(o.length, 2);
    o.copy(buf, 6);
    const at = 6 + o.length;
    for (let k = 0; k < this.count; k++) {
      const from = this.tailAt[k]!;
      const to = this.tailAt[k + 1]!;
      if (at + 8 + to - from > buf.length) {
        const more = Buffer.allocUnsafe(2 * (at + 8 + to - from));
        buf.copy(more, 0, 0, at);
        buf = more;
      }
      const index = first + k;
      buf.writeUInt32BE(Math.floor(index / 0x1_0000_0000), at);
      buf.writeUInt32BE(index >>> 0, at + 4);
      this.tails.copy(buf, at + 8, from, to);
      out[k] = latin1Sha256(buf.subarray(0, at + 8 + to - from));
    }
    return out;
  }
}

/** A Native/RowBinary string (`src[from, to)`: LEB128 length ‖ bytes) written as str() of the entry (u32be length ‖ bytes). */
function lenStr(t: Buffer, src: Buffer, from: number, to: number, w: number): number {
  let p = from;
  while (src[p]! >= 0x80) p++;
  p++;
  const n = to - p;
  t.writeUInt32BE(n, w);
  w += 4;
  if (n <= 32) for (let k = 0; k < n; k++) t[w + k] = src[p + k]!;
  else src.copy(t, w, p, to);
  return w + n;
}

/** SeverityNumber (a UInt8) in decimal, made once. */
const SEVERITY = Array.from({ length: 256 }, (_, v) => String(v));
