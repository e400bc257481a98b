/**
 * Reading log records straight from ExportLogsServiceRequest bytes without
 * building the whole record: a stage that looks at a few attributes of
 * each record (the audit classifier, correlate linking by request id) gets
 * a LogRecord holding only those, and the payload stays bytes for the
 * stages after it (core/payload.ts).
 *
 * The bytes were validated when they arrived (core/otlp/scan.ts, or a queue
 * record's checksum over bytes validated before), so the walk only reads:
 * known fields are taken, everything else skipped, and a field that repeats
 * is taken as the decoder takes it (the last one wins).
 */
import { blankLogRecord, emptyResource, setAttr, type KeyValue, type LogPatch, type LogRecord, type Resource } from '../model.ts';
import { readAnyValue, readKeyValue, readResource } from './common-proto.ts';
import { Reader } from './protowire.ts';
import {
  ExportLogsServiceRequestTag, KeyValueTag, LogRecordTag, ResourceLogsTag, ScopeLogsTag,
} from './wire-fields.gen.ts';

/** Values by attribute key, looked up by the UTF-8 bytes of a key on the wire (no string is made for a key that is not in it). */
/** Whether `k` is the bytes `buf[start, end)`. */
export function sameBytes(k: Uint8Array, buf: Uint8Array, start: number, end: number): boolean {
  const n = end - start;
  if (k.length !== n) return false;
  let i = 0;
  while (i < n && k[i] === buf[start + i]) i++;
  return i === n;
}

const KEY_TABLE = 4096;

export class KeyMap<T> {
  /** Candidates by a hash of the key's length and three of its bytes (a table, not a Map: one index per lookup). */
  private readonly table: ({ keys: Buffer[]; values: T[] } | undefined)[] = new Array(KEY_TABLE).fill(undefined);

  constructor(entries: Iterable<readonly [string, T]>) {
    for (const [k, v] of entries) {
      const b = Buffer.from(k, 'utf8');
      const h = KeyMap.hash(b, 0, b.length);
      const bucket = (this.table[h] ??= { keys: [], values: [] });
      bucket.keys.push(b);
      bucket.values.push(v);
    }
  }

  private static hash(buf: Uint8Array, start: number, end: number): number {
    const n = end - start;
    if (n === 0) return 0;
    return (n * 31 + buf[start]! * 7 + buf[start + (n >> 1)]! * 13 + buf[end - 1]! * 3) & (KEY_TABLE - 1);
  }

  /** The value of the key `buf[start, end)`, if it is one. */
  get(buf: Uint8Array, start: number, end: number): T | undefined {
    const bucket = this.table[KeyMap.hash(buf, start, end)];
    if (bucket === undefined) return undefined;
    const keys = bucket.keys;
    for (let j = 0; j < keys.length; j++) if (sameBytes(keys[j]!, buf, start, end)) return bucket.values[j];
    return undefined;
  }
}

/** A set of attribute keys, matched on the wire as KeyMap matches them. */
export class KeySet {
  private readonly bytes: KeyMap<true>;
  private readonly strings: Set<string>;

  constructor(keys: Iterable<string>) {
    this.strings = new Set(keys);
    this.bytes = new KeyMap([...this.strings].map((k) => [k, true] as const));
  }

  has(key: string): boolean {
    return this.strings.has(key);
  }

  /** Whether `buf[start, end)` is one of the keys. */
  hasBytes(buf: Uint8Array, start: number, end: number): boolean {
    return this.bytes.get(buf, start, end) === true;
  }
}

/** What eachLogRecord calls per record. */
export type LogRecordVisit = (r: Reader, end: number, ordinal: number, resource: Resource) => void;

/**
 * Visits every log record of `parts` in order: the reader at the record's
 * first field and the record's end, its ordinal across the parts (the index
 * of its patch, see core/payload.ts Payload.patch), and its resource (decoded once
 * per ResourceLogs, wherever it lies in the message).
 */
export function eachLogRecord(parts: readonly Uint8Array[], visit: LogRecordVisit): void {
  let ordinal = 0;
  for (const part of parts) ordinal = eachLogRecordOf(part, ordinal, visit);
}

/**
 * eachLogRecord over one part whose first record has ordinal `ordinal`
 * (the records of the parts before it); returns the ordinal after its last.
 * For a walk that stops between parts (core/yield.ts).
 */
export function eachLogRecordOf(part: Uint8Array, ordinal: number, visit: LogRecordVisit): number {
  const r = new Reader(part);
  const n = part.length;
  while (r.pos < n) {
    const tag = r.uint32();
    if (tag !== ExportLogsServiceRequestTag.resource_logs) {
      r.skip(tag & 7, n);
      continue;
    }
    const rlEnd = r.lenEnd(n);
    const rlStart = r.pos;
    // The resource first (it may follow its scopes on the wire).
    const resource = emptyResource();
    while (r.pos < rlEnd) {
      const t = r.uint32();
      if (t === ResourceLogsTag.resource) readResource(r, rlEnd, resource);
      else r.skip(t & 7, rlEnd);
    }
    r.pos = rlStart;
    while (r.pos < rlEnd) {
      const t = r.uint32();
      if (t !== ResourceLogsTag.scope_logs) {
        r.skip(t & 7, rlEnd);
        continue;
      }
      const slEnd = r.lenEnd(rlEnd);
      while (r.pos < slEnd) {
        const t2 = r.uint32();
        if (t2 !== ScopeLogsTag.log_records) {
          r.skip(t2 & 7, slEnd);
          continue;
        }
        const recEnd = r.lenEnd(slEnd);
        visit(r, recEnd, ordinal++, resource);
        r.pos = recEnd;
      }
    }
  }
  return ordinal;
}

/**
 * The record at the reader (up to `end`) holding its times, body, ids and
 * only the attributes whose keys are in `keys` (in their order), with
 * `patch` applied as it would be to the whole record. Severity, flags and
 * event name are left empty. Leaves the reader at `end`.
 */
export function viewLogRecord(r: Reader, end: number, keys: KeySet, patch?: LogPatch): LogRecord {
  const rec = blankLogRecord();
  const buf = r.buf;
  while (r.pos < end) {
    const tag = r.uint32();
    switch (tag) {
      case LogRecordTag.time_unix_nano: rec.timeUnixNano = r.fixed64(); break;
      case LogRecordTag.body: rec.body = readAnyValue(r, end, 0); break;
      case LogRecordTag.attributes: {
        const at = r.pos;
        const kvEnd = r.lenEnd(end);
        // Look at the key's bytes before making anything.
        const kEnd = keyEnd(r, kvEnd);
        if (kEnd >= 0 && !keys.hasBytes(buf, r.pos, kEnd)) {
          r.pos = kvEnd;
          break;
        }
        r.pos = at;
        const kv: KeyValue = readKeyValue(r, end);
        if (keys.has(kv.key)) rec.attributes.push(kv);
        break;
      }
      case LogRecordTag.trace_id: rec.traceId = r.id(end, 16, 'LogRecord.trace_id'); break;
      case LogRecordTag.span_id: rec.spanId = r.id(end, 8, 'LogRecord.span_id'); break;
      case LogRecordTag.observed_time_unix_nano: rec.observedTimeUnixNano = r.fixed64(); break;
      default: r.skip(tag & 7, end);
    }
  }
  if (patch) {
    if (patch.traceId !== undefined) rec.traceId = patch.traceId;
    if (patch.spanId !== undefined) rec.spanId = patch.spanId;
    for (const kv of patch.attributes) if (keys.has(kv.key)) setAttr(rec.attributes, kv.key, kv.value);
  }
  return rec;
}

/**
 * A KeyValue's key, when the message (the reader just past its length, up
 * to `kvEnd`) has the usual layout: the key, then at most the value. Returns
 * the key's end with the reader at its start, or -1 for any other layout
 * (a key written twice, say: read it with readKeyValue).
 */
export function keyEnd(r: Reader, kvEnd: number): number {
  const buf = r.buf;
  if (r.pos >= kvEnd || buf[r.pos] !== KeyValueTag.key) return -1;
  r.pos++;
  const kEnd = r.lenEnd(kvEnd);
  if (kEnd === kvEnd) return kEnd;
  if (buf[kEnd] !== KeyValueTag.value) return -1;
  const kStart = r.pos;
  r.pos = kEnd + 1;
  if (r.lenEnd(kvEnd) !== kvEnd) return -1;
  r.pos = kStart;
  return kEnd;
}
