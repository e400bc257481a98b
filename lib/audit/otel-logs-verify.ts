/**
 * verify's pages of an otel_logs log (otel-logs-leaf.ts), in ClickHouse's
 * RowBinary: a row is its header columns, then its body columns exactly as
 * the leaf's body encoding takes them, so the body is the row's bytes as
 * they lie (a view, not a copy) and OriginVerifier hashes it.
 *
 *   rows: LogIndex UInt64, Timestamp ns Int64, SeverityText, SeverityNumber (decimal), ServiceName String,
 *         then the body columns (OTEL_LOGS_BODY_SQL)
 *
 * The leaves page has the audit log's shape (verify-rowbinary.ts parseLeavesPage).
 * The header columns of both are the audit log's too (index, time, three
 * strings), so verify-rowbinary.ts feedRowBinary takes the pages as they
 * are, given each row's place and body hash (otelLogsPageOrder).
 */
import { hash } from 'node:crypto';
import type { RowsPageOrder } from './verify-rowbinary.ts';
import type { StoredRow } from './verify-types.ts';

/** The body columns, in the leaf encoding's order, as RowBinary gives them. */
export const OTEL_LOGS_BODY_SQL = `TimestampTime, TraceId, SpanId, TraceFlags, CAST(ResourceSchemaUrl AS String),
  CAST(mapKeys(ResourceAttributes) AS Array(String)), mapValues(ResourceAttributes), CAST(ScopeSchemaUrl AS String), ScopeName, CAST(ScopeVersion AS String),
  CAST(mapKeys(ScopeAttributes) AS Array(String)), mapValues(ScopeAttributes), Body, CAST(mapKeys(LogAttributes) AS Array(String)), mapValues(LogAttributes), EventName`;

/** The header columns (the entry's Timestamp, Category, Outcome, ServiceName), after LogIndex. */
export const OTEL_LOGS_HEADER_SQL = 'toUnixTimestamp64Nano(Timestamp), CAST(SeverityText AS String), toString(SeverityNumber), CAST(ServiceName AS String)';

class Page {
  at = 0;
  constructor(readonly buf: Buffer) {}

  need(n: number): void {
    if (this.at + n > this.buf.length) throw new Error('the page ends inside a record');
  }

  leb(): number {
    let n = 0;
    let shift = 0;
    for (;;) {
      const b = this.buf[this.at++];
      if (b === undefined) throw new Error('the page ends inside a length');
      n += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return n;
      shift += 7;
    }
  }

  str(): string {
    const n = this.leb();
    this.need(n);
    const s = this.buf.toString('utf8', this.at, this.at + n);
    this.at += n;
    return s;
  }

  skipStr(): void {
    const n = this.leb();
    this.need(n);
    this.at += n;
  }

  /** A Map as its keys and its values (two Array(String)). */
  skipMap(): void {
    for (let a = 0; a < 2; a++) {
      const n = this.leb();
      for (let i = 0; i < n; i++) this.skipStr();
    }
  }
}

/** A rows page's records, by LogIndex (records at one index in page order). Throws on a truncated or malformed page. */
export function parseOtelLogsRows(buf: Buffer, origin: string): StoredRow[] {
  const p = new Page(buf);
  const out: StoredRow[] = [];
  while (p.at < buf.length) {
    p.need(16);
    const lo = buf.readUInt32LE(p.at);
    const hi = buf.readUInt32LE(p.at + 4);
    if (hi >= 0x200000) throw new Error('an index beyond 2^53');
    const index = hi * 0x1_0000_0000 + lo;
    const timeNs = buf.readBigInt64LE(p.at + 8);
    p.at += 16;
    const category = p.str();
    const outcome = p.str();
    const service = p.str();
    const start = p.at;
    p.need(4);
    p.at += 4; // TimestampTime
    p.skipStr(); // TraceId
    p.skipStr(); // SpanId
    p.need(1);
    p.at += 1; // TraceFlags
    p.skipStr(); // ResourceSchemaUrl
    p.skipMap(); // ResourceAttributes
    p.skipStr(); // ScopeSchemaUrl
    p.skipStr(); // ScopeName
    p.skipStr(); // ScopeVersion
    p.skipMap(); // ScopeAttributes
    p.skipStr(); // Body
    p.skipMap(); // LogAttributes
    p.skipStr(); // EventName
    out.push({ origin, index, timeNs, category, outcome, service, body: buf.subarray(start, p.at) });
  }
  // Stable: rows at one index keep their page order.
  return out.sort((a, b) => a.index - b.index);
}

/** LEB128 at `p` past its string: the position after the string. */
function skipString(buf: Buffer, p: number): number {
  let n = 0;
  let shift = 0;
  for (;;) {
    const b = buf[p++];
    if (b === undefined) throw new Error('the page ends inside a length');
    n += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
    shift += 7;
  }
  if (p + n > buf.length) throw new Error('the page ends inside a string');
  return p + n;
}

function skipArray(buf: Buffer, p: number): number {
  let n = 0;
  let shift = 0;
  for (;;) {
    const b = buf[p++];
    if (b === undefined) throw new Error('the page ends inside a length');
    n += (b & 0x7f) * 2 ** shift;
    if (b < 0x80) break;
    shift += 7;
  }
  for (let k = 0; k < n; k++) p = skipString(buf, p);
  return p;
}

/** Position after the body columns starting at `p`. */
function skipBody(buf: Buffer, p: number): number {
  p += 4; // TimestampTime
  p = skipString(buf, p); // TraceId
  p = skipString(buf, p); // SpanId
  p += 1; // TraceFlags
  p = skipString(buf, p); // ResourceSchemaUrl
  p = skipArray(buf, skipArray(buf, p)); // ResourceAttributes
  p = skipString(buf, skipString(buf, skipString(buf, p))); // ScopeSchemaUrl, ScopeName, ScopeVersion
  p = skipArray(buf, skipArray(buf, p)); // ScopeAttributes
  p = skipString(buf, p); // Body
  p = skipArray(buf, skipArray(buf, p)); // LogAttributes
  p = skipString(buf, p); // EventName
  if (p > buf.length) throw new Error('the page ends inside a record');
  return p;
}

/**
 * A rows page's records in LogIndex order ([start, split, end] each: the
 * header is [start + 8, split), the body [split, end)) and the SHA-256 of
 * each body: what feedRowBinary takes. `from`/`to`: the page's range.
 */
export function otelLogsPageOrder(buf: Buffer, from: number, to: number): RowsPageOrder {
  const recs: number[] = [];
  const idx: number[] = [];
  let sorted = true;
  let inRange = to - from <= 1 << 26;
  for (let p = 0; p < buf.length; ) {
    if (p + 16 > buf.length) throw new Error('the page ends inside a record');
    const i = buf.readUInt32LE(p + 4) * 0x1_0000_0000 + buf.readUInt32LE(p);
    if (idx.length && i < idx[idx.length - 1]!) sorted = false;
    if (i < from || i >= to) inRange = false;
    const split = skipString(buf, skipString(buf, skipString(buf, p + 16)));
    const end = skipBody(buf, split);
    recs.push(p, split, end);
    idx.push(i);
    p = end;
  }
  const n = idx.length;
  let order: Int32Array | undefined;
  if (!sorted) {
    order = new Int32Array(n);
    if (inRange) {
      // A counting sort: a page covers a known range of indexes (stable: one index keeps page order).
      const at = new Int32Array(to - from + 1);
      for (let k = 0; k < n; k++) at[idx[k]! - from + 1]!++;
      for (let s = 1; s < at.length; s++) at[s]! += at[s - 1]!;
      for (let k = 0; k < n; k++) order[at[idx[k]! - from]!++] = k;
    } else {
      const ks = Array.from({ length: n }, (_, k) => k).sort((a, b) => idx[a]! - idx[b]! || a - b);
      for (let k = 0; k < n; k++) order[k] = ks[k]!;
    }
  }
  const rows = new Int32Array(3 * n);
  const bodyHashes = Buffer.allocUnsafe(32 * n);
  for (let k = 0; k < n; k++) {
    const r = 3 * (order ? order[k]! : k);
    rows[3 * k] = recs[r]!;
    rows[3 * k + 1] = recs[r + 1]!;
    rows[3 * k + 2] = recs[r + 2]!;
    hash('sha256', buf.subarray(recs[r + 1]!, recs[r + 2]!), 'buffer').copy(bodyHashes, 32 * k);
  }
  return { rows, bodyHashes };
}
