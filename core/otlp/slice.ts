/**
 * OTLP Export requests regrouped by trace id without decoding them: the
 * Kafka gateway's hot path. The received protobuf bytes are walked (tags and
 * lengths only; the one field read is each record's trace id) and every
 * record is copied as the bytes it arrived as, under copies of its resource
 * and scope, into one request per group.
 *
 * ExportLogsServiceRequest and ExportTraceServiceRequest have the same shape:
 *   request  { 1: ResourceLogs|ResourceSpans (repeated) }
 *   resource { 1: resource, 2: ScopeLogs|ScopeSpans (repeated), 3: schema_url }
 *   scope    { 1: scope, 2: LogRecord|Span (repeated), 3: schema_url }
 * and differ only in where a record keeps its trace id (LogRecord field 9,
 * Span field 1: `TRACE_ID_FIELD`). Fields other than the repeated child are
 * copied as they are (a resource's or scope's fields come before its
 * children in our output; protobuf does not care about field order).
 *
 * The input must be a well-formed request (the receiver decoded it before);
 * malformed bytes throw OtlpDecodeError-like errors rather than guess.
 */
import { asBuffer, type FastBuffer } from './wire-common.ts';

export const TRACE_ID_FIELD = { logs: 9, traces: 1 } as const;

const WT_VARINT = 0;
const WT_I64 = 1;
const WT_LEN = 2;
const WT_I32 = 5;

interface ScopeSlice {
  /** The scope message's own fields (scope, schema_url), tag included. */
  fields: Uint8Array[];
  /** Each record's whole field (tag, length, payload). */
  records: Uint8Array[];
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
  return id;
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
      if (tag !== ((1 << 3) | WT_LEN)) continue;
      sliceResource(buf, start, top.pos, traceIdField, keyOf, out);
    }
  }
  return out;
}

function sliceResource(buf: FastBuffer, start: number, end: number, field: number, keyOf: (id: string) => string, out: Map<string, SliceGroup>): void {
  const fields: Uint8Array[] = [];
  const scopes: Array<[number, number]> = [];
  const c = new Cursor(buf, start, end);
  while (c.pos < end) {
    const at = c.pos;
    const tag = c.varint();
    const payload = c.skip(tag & 7);
    if (tag === ((2 << 3) | WT_LEN)) scopes.push([payload, c.pos]);
    else fields.push(buf.subarray(at, c.pos));
  }
  // Per group: this resource's copy, created when the group's first record here is seen.
  const mine = new Map<string, ResourceSlice>();
  for (const [s, e] of scopes) {
    const scopeFields: Uint8Array[] = [];
    const records: Array<[number, number, string]> = [];
    const sc = new Cursor(buf, s, e);
    while (sc.pos < e) {
      const at = sc.pos;
      const tag = sc.varint();
      const payload = sc.skip(tag & 7);
      if (tag === ((2 << 3) | WT_LEN)) records.push([at, sc.pos, traceIdOf(buf, payload, sc.pos, field)]);
      else scopeFields.push(buf.subarray(at, sc.pos));
    }
    const scopeFor = new Map<string, ScopeSlice>();
    for (const [rs, re, id] of records) {
      const k = keyOf(id);
      let scope = scopeFor.get(k);
      if (!scope) {
        let res = mine.get(k);
        if (!res) {
          let g = out.get(k);
          if (!g) out.set(k, (g = { resources: [], records: 0 }));
          res = { fields, scopes: [] };
          g.resources.push(res);
          mine.set(k, res);
        }
        scope = { fields: scopeFields, records: [] };
        res.scopes.push(scope);
        scopeFor.set(k, scope);
      }
      scope.records.push(buf.subarray(rs, re));
      out.get(k)!.records++;
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
      let i = 0;
      while (i < s.records.length) {
        if (cur.records === max) {
          out.push(cur);
          cur = { resources: [], records: 0 };
          rOut = undefined;
        }
        const take = Math.min(max - cur.records, s.records.length - i);
        if (!rOut) cur.resources.push((rOut = { fields: r.fields, scopes: [] }));
        rOut.scopes.push({ fields: s.fields, records: s.records.slice(i, i + take) });
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
      const sb = sum(s.fields) + sum(s.records);
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
    const scopeBodies = r.scopes.map((s) => sum(s.fields) + sum(s.records));
    for (const sb of scopeBodies) body += 1 + varintSize(sb) + sb;
    out[pos++] = (1 << 3) | WT_LEN;
    varint(body);
    for (const f of r.fields) copy(f);
    r.scopes.forEach((s, i) => {
      out[pos++] = (2 << 3) | WT_LEN;
      varint(scopeBodies[i]!);
      for (const f of s.fields) copy(f);
      for (const rec of s.records) copy(rec);
    });
  }
  if (pos !== out.length) throw new Error(`OTLP slice size mismatch: wrote ${pos} of ${out.length} bytes`);
  return out;
}
