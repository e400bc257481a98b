/**
 * OTLP Export requests regrouped by trace id without decoding them: the
 * Kafka gateway's hot path. The received protobuf bytes are walked (tags and
 * lengths only; the one field read is each record's trace id) and every
 * record is copied as the bytes it arrived as, under copies of its resource
 * and scope, into one request per group.
 *
 * ExportLogsServiceRequest and ExportTraceServiceRequest have the same shape
 * and field numbers (wire-fields.gen.ts; wire-fields.test.ts checks it):
 *   request  { resource_logs|resource_spans (repeated) }
 *   resource { resource, scope_logs|scope_spans (repeated), schema_url }
 *   scope    { scope, log_records|spans (repeated), schema_url }
 * and differ only in where a record keeps its trace id (LogRecord.trace_id,
 * Span.trace_id: `TRACE_ID_FIELD`). Fields other than the repeated child are
 * copied as they are (a resource's or scope's fields come before its
 * children in our output; protobuf does not care about field order).
 *
 * The input must be a well-formed request (the receiver decoded it before);
 * malformed bytes throw OtlpDecodeError-like errors rather than guess.
 */
import { asBuffer, type FastBuffer } from './wire-common.ts';
import {
  ExportLogsServiceRequestTag, LogRecordField, ResourceLogsTag, ScopeLogsTag, SpanField,
} from './wire-fields.gen.ts';

const ZERO_TRACE_ID = '0'.repeat(32);

export const TRACE_ID_FIELD = { logs: LogRecordField.trace_id, traces: SpanField.trace_id } as const;

const WT_VARINT = 0;
const WT_I64 = 1;
const WT_LEN = 2;
const WT_I32 = 5;

interface ScopeSlice {
  /** The scope message's own fields (scope, schema_url), tag included. */
  fields: Uint8Array[];
  /** The request the records are in. */
  buf: FastBuffer;
  /**
   * Each record's whole field (tag, length, payload) as start, end offsets
   * into `buf`, flat: numbers, not a view object per record.
   */
  ranges: number[];
  /** Their bytes, summed. */
  bytes: number;
}

interface ResourceSlice {
  fields: Uint8Array[];
  scopes: ScopeSlice[];
}

/** The records of one group, under their resources and scopes, in arrival order. */
export interface SliceGroup {
  resources: ResourceSlice[];
  records: number;
}

class Cursor {
  pos: number;
  constructor(
    readonly buf: FastBuffer,
    start: number,
    readonly end: number,
  ) {
    this.pos = start;
  }

  varint(): number {
    const buf = this.buf;
    let result = 0;
    let shift = 0;
    for (;;) {
      if (this.pos >= this.end) throw new Error('truncated varint in OTLP request');
      const b = buf[this.pos++]!;
      if (shift < 28) result |= (b & 0x7f) << shift;
      else result += (b & 0x7f) * 2 ** shift;
      if (b < 0x80) return result;
      shift += 7;
      if (shift > 63) throw new Error('varint over 64 bits in OTLP request');
    }
  }

  /** Skips the value of a field of this wire type; returns the LEN payload's start for LEN fields. */
  skip(wireType: number): number {
    switch (wireType) {
      case WT_VARINT:
        this.varint();
        return -1;
      case WT_I64:
        this.pos += 8;
        break;
      case WT_I32:
        this.pos += 4;
        break;
      case WT_LEN: {
        const n = this.varint();
        const start = this.pos;
        this.pos += n;
        if (this.pos > this.end) throw new Error('length past the end of an OTLP message');
        return start;
      }
      default:
        throw new Error(`unsupported wire type ${wireType} in OTLP request`);
    }
    if (this.pos > this.end) throw new Error('field past the end of an OTLP message');
    return -1;
  }
}

function traceIdOf(buf: FastBuffer, start: number, end: number, field: number): string {
  const c = new Cursor(buf, start, end);
  let id = '';
  while (c.pos < end) {
    const tag = c.varint();
    const wt = tag & 7;
    const payload = c.skip(wt);
    // The last occurrence wins, as in protobuf decoding.
    if (tag >>> 3 === field && wt === WT_LEN) id = c.pos - payload === 16 ? buf.hexSlice(payload, c.pos) : '';
  }
  // All zeros is no trace id, as the decoder reads it.
  return id === ZERO_TRACE_ID ? '' : id;
}

/**
 * Groups the records of `parts` (each one Export request; together one
 * batch, as `rawProto` keeps them) by `keyOf(traceIdHex)` ('' for records
 * without a trace id). Groups and their resources come in first-seen order.
 */
export function sliceByTrace(parts: readonly Uint8Array[], traceIdField: number, keyOf: (traceId: string) => string): Map<string, SliceGroup> {
  const out = new Map<string, SliceGroup>();
  for (const part of parts) {
    const buf = asBuffer(part);
    const top = new Cursor(buf, 0, buf.length);
    while (top.pos < top.end) {
      const tag = top.varint();
      const start = top.skip(tag & 7);
      if (tag !== ExportLogsServiceRequestTag.resource_logs) continue;
      sliceResource(buf, start, top.pos, traceIdField, keyOf, out);
    }
  }
  return out;
}

function sliceResource(buf: FastBuffer, start: number, end: number, field: number, keyOf: (id: string) => string, out: Map<string, SliceGroup>): void {
  const fields: Uint8Array[] = [];
  const scopes: number[] = [];
  const c = new Cursor(buf, start, end);
  while (c.pos < end) {
    const at = c.pos;
    const tag = c.varint();
    const payload = c.skip(tag & 7);
    if (tag === ResourceLogsTag.scope_logs) scopes.push(payload, c.pos);
    else fields.push(buf.subarray(at, c.pos));
  }
  // Per group: this resource's copy, created when the group's first record here is seen.
  const mine = new Map<string, { res: ResourceSlice; group: SliceGroup }>();
  for (let i = 0; i < scopes.length; i += 2) {
    const e = scopes[i + 1]!;
    // Shared by this scope's copies; filled as the walk goes (a scope field may follow records).
    const scopeFields: Uint8Array[] = [];
    const scopeFor = new Map<string, { scope: ScopeSlice; group: SliceGroup }>();
    const sc = new Cursor(buf, scopes[i]!, e);
    while (sc.pos < e) {
      const at = sc.pos;
      const tag = sc.varint();
      const payload = sc.skip(tag & 7);
      if (tag !== ScopeLogsTag.log_records) {
        scopeFields.push(buf.subarray(at, sc.pos));
        continue;
      }
      const k = keyOf(traceIdOf(buf, payload, sc.pos, field));
      let entry = scopeFor.get(k);
      if (!entry) {
        let r = mine.get(k);
        if (!r) {
          let group = out.get(k);
          if (!group) out.set(k, (group = { resources: [], records: 0 }));
          r = { res: { fields, scopes: [] }, group };
          group.resources.push(r.res);
          mine.set(k, r);
        }
        entry = { scope: { fields: scopeFields, buf, ranges: [], bytes: 0 }, group: r.group };
        r.res.scopes.push(entry.scope);
        scopeFor.set(k, entry);
      }
      entry.scope.ranges.push(at, sc.pos);
      entry.scope.bytes += sc.pos - at;
      entry.group.records++;
    }
  }
}

/** The group in pieces of at most `max` records each, structure kept. */
export function splitGroup(g: SliceGroup, max: number): SliceGroup[] {
  const out: SliceGroup[] = [];
  let cur: SliceGroup = { resources: [], records: 0 };
  for (const r of g.resources) {
    let rOut: ResourceSlice | undefined;
    for (const s of r.scopes) {
      const n = s.ranges.length / 2;
      let i = 0;
      while (i < n) {
        if (cur.records === max) {
          out.push(cur);
          cur = { resources: [], records: 0 };
          rOut = undefined;
        }
        const take = Math.min(max - cur.records, n - i);
        if (!rOut) cur.resources.push((rOut = { fields: r.fields, scopes: [] }));
        const ranges = s.ranges.slice(2 * i, 2 * (i + take));
        let bytes = 0;
        for (let j = 0; j < ranges.length; j += 2) bytes += ranges[j + 1]! - ranges[j]!;
        rOut.scopes.push({ fields: s.fields, buf: s.buf, ranges, bytes });
        cur.records += take;
        i += take;
      }
    }
  }
  if (cur.records > 0) out.push(cur);
  return out;
}

function varintSize(n: number): number {
  let size = 1;
  while (n >= 0x80) {
    n = Math.floor(n / 128);
    size++;
  }
  return size;
}

function sum(parts: readonly Uint8Array[]): number {
  let n = 0;
  for (const p of parts) n += p.length;
  return n;
}

/** Bytes of the Export request `encodeGroup` would write. */
export function groupSize(g: SliceGroup): number {
  let total = 0;
  for (const r of g.resources) {
    let body = sum(r.fields);
    for (const s of r.scopes) {
      const sb = sum(s.fields) + s.bytes;
      body += 1 + varintSize(sb) + sb;
    }
    total += 1 + varintSize(body) + body;
  }
  return total;
}

/** One Export request holding the group. */
export function encodeGroup(g: SliceGroup): Buffer {
  const out = Buffer.allocUnsafe(groupSize(g));
  let pos = 0;
  const varint = (v: number) => {
    while (v >= 0x80) {
      out[pos++] = (v & 0x7f) | 0x80;
      v = Math.floor(v / 128);
    }
    out[pos++] = v;
  };
  const copy = (b: Uint8Array) => {
    out.set(b, pos);
    pos += b.length;
  };
  for (const r of g.resources) {
    let body = sum(r.fields);
    const scopeBodies = r.scopes.map((s) => sum(s.fields) + s.bytes);
    for (const sb of scopeBodies) body += 1 + varintSize(sb) + sb;
    out[pos++] = ExportLogsServiceRequestTag.resource_logs;
    varint(body);
    for (const f of r.fields) copy(f);
    r.scopes.forEach((s, i) => {
      out[pos++] = ResourceLogsTag.scope_logs;
      varint(scopeBodies[i]!);
      for (const f of s.fields) copy(f);
      const rs = s.ranges;
      for (let j = 0; j < rs.length; j += 2) pos += s.buf.copy(out, pos, rs[j]!, rs[j + 1]!);
    });
  }
  if (pos !== out.length) throw new Error(`OTLP slice size mismatch: wrote ${pos} of ${out.length} bytes`);
  return out;
}
