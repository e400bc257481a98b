/**
 * One Forward protocol v1 message (already decoded from msgpack) read as
 * log records, the way the Collector's fluentforwardreceiver maps them:
 *
 *   Message                  [tag, time, record, option?]
 *   Forward                  [tag, [[time, record], ...], option?]
 *   PackedForward            [tag, bin|str (a msgpack stream of [time, record]), option?]
 *                            (the str kept as bytes by Decoder.decodeMessage)
 *   CompressedPackedForward  the same, option `compressed: "gzip"`
 *
 * `time` is EventTime (ext type 0: seconds and nanoseconds, big-endian
 * uint32 each) or an integer of seconds; Fluent Bit's `[time, metadata]`
 * pair is read as its time. A record is a map: `log` or `message` becomes
 * the body, every other key an attribute, and the tag the attribute
 * `fluent.tag`. With `parse_json_body`, a body that is a JSON object (an
 * Envoy access log line shipped as `{log: "{...}"}`) also gives its fields
 * as attributes. Anything else is a MalformedMessage with the reason.
 */
import { gunzip } from 'node:zlib';
import { promisify } from 'node:util';
import { KvList, type AnyValue, type KeyValue, type LogRecord } from '../../core/model.ts';
import { liftJsonBody } from '../../lib/mesh/json-line.ts';
import { Decoder, Ext, Incomplete, MsgpackError } from './msgpack.ts';

const gunzipAsync = promisify(gunzip);

export class MalformedMessage extends Error {}

export interface ForwardMessage {
  tag: string;
  records: LogRecord[];
  /** The `chunk` option: the sender waits for `{ack: chunk}`. */
  chunk: string | undefined;
}

export interface ReadOptions {
  /** Largest decompressed PackedForward stream (bytes). */
  maxDecompressed: number;
  /** Lift the fields of a JSON-object body into attributes (lib/mesh/json-line.ts). */
  parseJsonBody: boolean;
}

const NS = 1_000_000_000n;

function timeOf(v: unknown, where: string): bigint {
  if (Array.isArray(v) && v.length === 2) v = v[0]; // Fluent Bit's [time, metadata]
  if (typeof v === 'bigint') {
    if (v < 0n) throw new MalformedMessage(`${where}: negative time ${v}`);
    return v * NS;
  }
  if (v instanceof Ext) {
    if (v.type !== 0 || v.data.length !== 8) throw new MalformedMessage(`${where}: ext type ${v.type} of ${v.data.length} bytes is not an EventTime (type 0, 8 bytes)`);
    const d = v.data;
    const sec = ((d[0]! << 24) >>> 0) + (d[1]! << 16) + (d[2]! << 8) + d[3]!;
    const nsec = ((d[4]! << 24) >>> 0) + (d[5]! << 16) + (d[6]! << 8) + d[7]!;
    if (nsec >= 1e9) throw new MalformedMessage(`${where}: EventTime nanoseconds ${nsec} out of range`);
    return BigInt(sec) * NS + BigInt(nsec);
  }
  // Some loggers send float seconds; Fluentd itself accepts them.
  if (typeof v === 'number' && Number.isFinite(v) && v >= 0) return BigInt(Math.round(v * 1e6)) * 1000n;
  throw new MalformedMessage(`${where}: time must be an integer or EventTime, got ${describe(v)}`);
}

function describe(v: unknown): string {
  if (v === null) return 'nil';
  if (v instanceof Map) return 'map';
  if (v instanceof Uint8Array) return 'bin';
  if (v instanceof Ext) return `ext type ${v.type}`;
  if (Array.isArray(v)) return 'array';
  return typeof v === 'bigint' ? 'int' : typeof v === 'number' ? 'float' : typeof v;
}

/** A msgpack value as an OTLP AnyValue (map → kvlist, bin and ext → bytes, nil → empty). */
function value(v: unknown): AnyValue {
  if (v === null) return undefined;
  if (typeof v === 'string' || typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (v instanceof Uint8Array) return v.slice(); // a copy: do not keep the whole receive buffer alive
  if (v instanceof Ext) return v.data.slice();
  if (Array.isArray(v)) return v.map(value);
  if (v instanceof Map) {
    const kvs: KeyValue[] = [];
    for (const [k, x] of v) kvs.push({ key: keyOf(k), value: value(x) });
    return new KvList(kvs);
  }
  return String(v);
}

function keyOf(k: unknown): string {
  if (typeof k === 'string') return k;
  if (k instanceof Uint8Array) return Buffer.from(k).toString('utf8');
  if (typeof k === 'bigint' || typeof k === 'number' || typeof k === 'boolean') return String(k);
  throw new MalformedMessage(`record key must be a string, got ${describe(k)}`);
}

function toRecord(tag: string, time: bigint, rec: unknown, observed: bigint, where: string, json: boolean): LogRecord {
  if (!(rec instanceof Map)) throw new MalformedMessage(`${where}: record must be a map, got ${describe(rec)}`);
  const attributes: KeyValue[] = [{ key: 'fluent.tag', value: tag }];
  let body: AnyValue;
  for (const [k, v] of rec) {
    const key = keyOf(k);
    if (key === 'log' || key === 'message') body = value(v);
    else attributes.push({ key, value: value(v) });
  }
  const r: LogRecord = {
    timeUnixNano: time,
    observedTimeUnixNano: observed,
    severityNumber: 0,
    severityText: '',
    body,
    attributes,
    droppedAttributesCount: 0,
    flags: 0,
    traceId: '',
    spanId: '',
    eventName: '',
  };
  if (json) liftJsonBody(r);
  return r;
}

function entry(tag: string, e: unknown, observed: bigint, where: string, json: boolean): LogRecord {
  if (!Array.isArray(e) || e.length !== 2) throw new MalformedMessage(`${where}: an entry must be [time, record], got ${describe(e)}${Array.isArray(e) ? ` of ${e.length}` : ''}`);
  return toRecord(tag, timeOf(e[0], where), e[1], observed, where, json);
}

function options(v: unknown): Map<unknown, unknown> | undefined {
  if (v === undefined || v === null) return undefined;
  if (!(v instanceof Map)) throw new MalformedMessage(`option must be a map, got ${describe(v)}`);
  return v;
}

function packed(bytes: Uint8Array, tag: string, observed: bigint, maxRecords: number, json: boolean): LogRecord[] {
  const out: LogRecord[] = [];
  const d = new Decoder(bytes);
  while (d.pos < bytes.length) {
    const where = `entry ${out.length}`;
    let e: unknown;
    try {
      e = d.decode();
    } catch (err) {
      if (err instanceof Incomplete) throw new MalformedMessage(`${where}: the packed entries end inside an entry`);
      if (err instanceof MsgpackError) throw new MalformedMessage(`${where}: ${err.message}`);
      throw err;
    }
    out.push(entry(tag, e, observed, where, json));
    if (maxRecords > 0 && out.length > maxRecords) break; // the caller refuses the message; stop decoding it
  }
  return out;
}

/**
 * Reads one decoded message. `maxRecords` stops decoding a packed stream
 * early once it is known to be too large (the caller refuses it).
 */
export async function readMessage(msg: unknown[], limits: ReadOptions, maxRecords: number): Promise<ForwardMessage> {
  if (msg.length < 2 || msg.length > 4) throw new MalformedMessage(`a forward message is an array of 2 to 4 elements, got ${msg.length}`);
  const tag = msg[0];
  if (typeof tag !== 'string') throw new MalformedMessage(`tag must be a string, got ${describe(tag)}`);
  const observed = BigInt(Date.now()) * 1_000_000n;
  const second = msg[1];
  let records: LogRecord[];
  let opt: Map<unknown, unknown> | undefined;
  if (Array.isArray(second)) {
    // Forward mode
    opt = options(msg[2]);
    if (msg.length > 3) throw new MalformedMessage('Forward mode is [tag, entries, option?]');
    records = new Array<LogRecord>(second.length);
    for (let i = 0; i < second.length; i++) records[i] = entry(tag, second[i], observed, `entry ${i}`, limits.parseJsonBody);
  } else if (second instanceof Uint8Array) {
    opt = options(msg[2]);
    if (msg.length > 3) throw new MalformedMessage('PackedForward mode is [tag, entries, option?]');
    let bytes = second;
    const compressed = opt?.get('compressed');
    if (compressed === 'gzip') {
      try {
        bytes = await gunzipAsync(bytes, { maxOutputLength: limits.maxDecompressed });
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        if (e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) throw new MalformedMessage(`CompressedPackedForward entries exceed ${limits.maxDecompressed} bytes once decompressed`);
        throw new MalformedMessage(`CompressedPackedForward entries are not valid gzip: ${e.message}`);
      }
    } else if (compressed !== undefined && compressed !== 'text') {
      throw new MalformedMessage(`unsupported compressed option ${JSON.stringify(typeof compressed === 'string' ? compressed : describe(compressed))}: gzip or text`);
    }
    records = packed(bytes, tag, observed, maxRecords, limits.parseJsonBody);
  } else {
    // Message mode
    if (msg.length < 3) throw new MalformedMessage('Message mode is [tag, time, record, option?]');
    opt = options(msg[3]);
    records = [toRecord(tag, timeOf(second, 'message'), msg[2], observed, 'message', limits.parseJsonBody)];
  }
  const signal = opt?.get('fluent_signal');
  if (signal !== undefined && signal !== 0n) throw new MalformedMessage(`fluent_signal ${String(signal)} (Fluent Bit metrics or traces) is not supported: only logs`);
  const chunk = opt?.get('chunk');
  if (chunk !== undefined && typeof chunk !== 'string') throw new MalformedMessage(`option chunk must be a string, got ${describe(chunk)}`);
  return { tag, records, chunk };
}
