/**
 * Loki push requests → OTLP log records, as the Collector's loki receiver
 * maps them: one record per entry, the line as a string body, each stream
 * label an attribute (except Loki's internal `__` ones); the entry's time
 * when `use_incoming_timestamp`, else the receive time, which is also the
 * observed time. Beyond the Collector: structured
 * metadata (the protobuf `structuredMetadata`, the JSON third element) become
 * attributes too, and a line that is a JSON object adds its fields
 * (lib/mesh/json-line.ts), so an Envoy access log is classified as over OTLP.
 *
 * Protobuf (Loki's push.proto, snappy block-compressed by every client):
 *   PushRequest    { repeated StreamAdapter streams = 1; }
 *   StreamAdapter  { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
 *   EntryAdapter   { Timestamp timestamp = 1; string line = 2; repeated LabelPairAdapter structuredMetadata = 3; }
 *   LabelPairAdapter { string name = 1; string value = 2; }
 *   Timestamp      { int64 seconds = 1; int32 nanos = 2; }
 * JSON: {"streams":[{"stream":{"label":"value"},"values":[["<unix ns>","line"(,{"k":"v"})]]}]}
 */
import { blankLogRecord, emptyResource, emptyScope, type KeyValue, type LogRecord, type LogsData } from '../../core/model.ts';
import { Reader, fields } from '../../core/otlp/protowire.ts';
import { addJsonLineAttributes } from '../../lib/mesh/json-line.ts';
import { parseLabels } from './labels.ts';

export class PushError extends Error {
  override readonly name = 'PushError';
}

export interface PushOptions {
  useIncomingTimestamp: boolean;
}

const PUSH = fields(1);
const STREAM = fields(1, 2, 3);
const ENTRY = fields(1, 2, 3);
const PAIR = fields(1, 2);
const TS = fields(1, 2);

class Builder {
  readonly records: LogRecord[] = [];
  readonly observed = BigInt(Date.now()) * 1_000_000n;
  constructor(private readonly opts: PushOptions) {}

  add(labels: readonly KeyValue[], ts: bigint, line: string, metadata: KeyValue[] | undefined): void {
    const r = blankLogRecord();
    r.observedTimeUnixNano = this.observed;
    // As the Collector: the receive time when the entry's own is not used (or is zero).
    r.timeUnixNano = this.opts.useIncomingTimestamp && ts !== 0n ? ts : this.observed;
    r.body = line;
    const attrs: KeyValue[] = new Array(labels.length);
    for (let i = 0; i < labels.length; i++) attrs[i] = { key: labels[i]!.key, value: labels[i]!.value };
    if (metadata) for (const m of metadata) if (!attrs.some((a) => a.key === m.key)) attrs.push(m);
    addJsonLineAttributes(line, attrs);
    r.attributes = attrs;
    this.records.push(r);
  }

  finish(): LogsData {
    if (this.records.length === 0) return { resourceLogs: [] };
    return { resourceLogs: [{ resource: emptyResource(), schemaUrl: '', scopeLogs: [{ scope: emptyScope(), schemaUrl: '', logRecords: this.records }] }] };
  }
}

// ---------------------------------------------------------------- protobuf

/** Labels starting with `__` are Loki-internal (`__name__`, `__stream_shard__`): the Collector drops them, so do we. */
function dropInternal(labels: KeyValue[]): void {
  let j = 0;
  for (let i = 0; i < labels.length; i++) if (!labels[i]!.key.startsWith('__')) labels[j++] = labels[i]!;
  labels.length = j;
}

function timestamp(r: Reader, limit: number): bigint {
  const end = r.lenEnd(limit);
  let sec = 0n;
  let nanos = 0;
  while (r.pos < end) {
    const t = r.uint32();
    if (t === 8) sec = r.int64();
    else if (t === 16) nanos = r.uint32() | 0;
    else r.other(t, TS, end, 'Timestamp');
  }
  r.expectEnd(end, 'Timestamp');
  if (nanos < 0 || nanos > 999_999_999) r.fail(`Timestamp nanos ${nanos} out of range`);
  const ns = sec * 1_000_000_000n + BigInt(nanos);
  return ns < 0n ? 0n : ns;
}

function pair(r: Reader, limit: number, into: KeyValue[]): void {
  const end = r.lenEnd(limit);
  let key = '';
  let value = '';
  while (r.pos < end) {
    const t = r.uint32();
    if (t === 10) key = r.key(end);
    else if (t === 18) value = r.string(end);
    else r.other(t, PAIR, end, 'LabelPairAdapter');
  }
  r.expectEnd(end, 'LabelPairAdapter');
  if (!key) r.fail('structured metadata with an empty name');
  into.push({ key, value });
}

function entry(r: Reader, limit: number, labels: readonly KeyValue[], b: Builder): void {
  const end = r.lenEnd(limit);
  let ts = 0n;
  let line = '';
  let md: KeyValue[] | undefined;
  while (r.pos < end) {
    const t = r.uint32();
    if (t === 10) ts = timestamp(r, end);
    else if (t === 18) line = r.string(end);
    else if (t === 26) pair(r, end, (md ??= []));
    else r.other(t, ENTRY, end, 'EntryAdapter');
  }
  r.expectEnd(end, 'EntryAdapter');
  b.add(labels, ts, line, md);
}

function stream(r: Reader, limit: number, b: Builder): void {
  const end = r.lenEnd(limit);
  // Labels come first in every encoder; entries seen before them are held until the end.
  let labelText: string | undefined;
  let named = 0;
  const labels: KeyValue[] = [];
  const early: [number, number][] = [];
  while (r.pos < end) {
    const t = r.uint32();
    if (t === 10) {
      labelText = r.string(end);
      labels.length = 0;
      parseLabels(labelText, labels);
      named = labels.length;
      dropInternal(labels);
    } else if (t === 18) {
      if (labelText === undefined) {
        const start = r.pos;
        r.pos = r.lenEnd(end);
        early.push([start, r.pos]);
      } else entry(r, end, labels, b);
    } else r.other(t, STREAM, end, 'StreamAdapter');
  }
  r.expectEnd(end, 'StreamAdapter');
  if (named === 0) throw new PushError('a stream with no labels (Loki requires at least one label)');
  const at = r.pos;
  for (const [s] of early) {
    r.pos = s;
    entry(r, end, labels, b);
  }
  r.pos = at;
}

export function decodePushProto(buf: Uint8Array, opts: PushOptions): LogsData {
  const r = new Reader(buf);
  const b = new Builder(opts);
  const end = r.len;
  while (r.pos < end) {
    const t = r.uint32();
    if (t === 10) stream(r, end, b);
    else r.other(t, PUSH, end, 'PushRequest');
  }
  return b.finish();
}

// ---------------------------------------------------------------- JSON

function isObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** A JSON entry time: a string of unix nanoseconds (Loki's format), digits only. */
function nsString(v: unknown, where: string): bigint {
  if (typeof v !== 'string' || !/^\d{1,19}$/.test(v)) throw new PushError(`${where}: timestamp must be a string of unix nanoseconds, got ${JSON.stringify(v)?.slice(0, 40)}`);
  return BigInt(v);
}

export function decodePushJson(buf: Buffer, opts: PushOptions): LogsData {
  let doc: unknown;
  try {
    doc = JSON.parse(buf.toString('utf8'));
  } catch (err) {
    throw new PushError(`not JSON: ${(err as Error).message}`);
  }
  if (!isObject(doc) || !Array.isArray(doc.streams)) throw new PushError('expected {"streams":[…]}');
  const b = new Builder(opts);
  doc.streams.forEach((s: unknown, si: number) => {
    const where = `streams[${si}]`;
    if (!isObject(s)) throw new PushError(`${where}: expected an object`);
    if (!isObject(s.stream)) {
      throw new PushError(s.labels !== undefined ? `${where}: the legacy "labels"/"entries" shape is not supported: push {"stream":{…},"values":[…]} to /loki/api/v1/push` : `${where}: "stream" must be an object of labels`);
    }
    const labels: KeyValue[] = [];
    for (const [key, value] of Object.entries(s.stream)) {
      if (typeof value !== 'string') throw new PushError(`${where}.stream.${key}: label values are strings`);
      if (!/^[a-zA-Z_][a-zA-Z0-9_]*$/.test(key)) throw new PushError(`${where}.stream: invalid label name ${JSON.stringify(key)}`);
      if (!key.startsWith('__')) labels.push({ key, value });
    }
    if (Object.keys(s.stream).length === 0) throw new PushError(`${where}: a stream with no labels (Loki requires at least one label)`);
    if (!Array.isArray(s.values)) throw new PushError(`${where}: "values" must be an array of [timestamp, line] pairs`);
    s.values.forEach((v: unknown, vi: number) => {
      const at = `${where}.values[${vi}]`;
      if (!Array.isArray(v) || v.length < 2 || v.length > 3) throw new PushError(`${at}: expected ["<unix ns>", "line"] or ["<unix ns>", "line", {metadata}]`);
      const ts = nsString(v[0], at);
      if (typeof v[1] !== 'string') throw new PushError(`${at}: the line must be a string`);
      let md: KeyValue[] | undefined;
      if (v.length === 3) {
        if (!isObject(v[2])) throw new PushError(`${at}: structured metadata must be an object of strings`);
        md = [];
        for (const [key, value] of Object.entries(v[2])) {
          if (typeof value !== 'string') throw new PushError(`${at}: structured metadata ${JSON.stringify(key)} must be a string`);
          md.push({ key, value });
        }
      }
      b.add(labels, ts, v[1], md);
    });
  });
  return b.finish();
}
