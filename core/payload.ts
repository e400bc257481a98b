/**
 * The envelope every stage hands on: one payload of one signal, what it
 * carries said in its type instead of hidden on the records.
 *
 * - `content` is either the records (`kind: 'records'`, with the protobuf
 *   bytes that describe them exactly when a stage knows them) or request
 *   bytes not decoded yet (`kind: 'bytes'`: Export requests, concatenated
 *   they are the payload, plus, for logs, patches a stage made without
 *   building the records). Bytes wait: a pipeline whose stages only count
 *   and forward bytes (OTLP → batch → kafka, the spool's queue) never builds
 *   a record. Records pass through: a payload decoded once stays decoded.
 * - `client` is who sent it (core/client.ts), `dedupToken` the token chosen
 *   upstream for its inserts (Kafka offsets, a sending queue's batch),
 *   `sequence` the ordered stream it was read from (a Kafka group, topic
 *   and partition), for stages that keep state per stream (the audit log).
 *
 * Invariant: `bytes()` describe the records exactly. A stage that changes
 * records in place takes them with `recordsToChange()`, which lets the bytes
 * go, so no queue or Kafka topic stores bytes older than the records.
 */
import type { ClientInfo } from './client.ts';
import { cloneLogs, cloneTraces, logRecordCount, setAttr, spanCount, type LogPatch, type LogRecord, type LogsData, type ResourceLogs, type Signal, type TracesData } from './model.ts';
import { decodeLogsProto, encodeLogsProto } from './otlp/logs-proto.ts';
import { scanLogsProto, scanTracesProto } from './otlp/scan.ts';
import { decodeTracesProto, encodeTracesProto } from './otlp/traces-proto.ts';

export type RecordsOf<S extends Signal> = S extends 'logs' ? LogsData : TracesData;

/** Patches by record ordinal across the parts, in order (see Payload.patch). */
export type LogPatches = readonly (LogPatch | undefined)[];

export type Content<S extends Signal> =
  | {
      readonly kind: 'records';
      readonly data: RecordsOf<S>;
      /** Export requests that, concatenated, are exactly these records; absent when unknown. */
      readonly bytes?: readonly Uint8Array[];
    }
  | {
      readonly kind: 'bytes';
      /** Export requests (protobuf), validated to hold `count` records. */
      readonly parts: readonly Uint8Array[];
      readonly count: number;
      /** Logs only: changes to apply to the records the parts hold (see Payload.patch). */
      readonly patches?: LogPatches;
    };

export type LogsPayload = Payload<'logs'>;
export type TracesPayload = Payload<'traces'>;
/** A payload of either signal (narrow with isLogs()). */
export type AnyPayload = Payload<Signal>;

export class Payload<S extends Signal = Signal> {
  /** Who sent it; undefined when unknown or after a batch of many senders. */
  client: ClientInfo | undefined;
  /** The same on every delivery of this payload, so inserts downstream can recognise a repeat. */
  dedupToken: string | undefined;
  /** The ordered stream this payload was read from (`kafka/<group>/<topic>/<partition>`), when there is one. */
  sequence: string | undefined;
  private c: Content<S>;

  private constructor(
    readonly signal: S,
    content: Content<S>,
    client: ClientInfo | undefined,
  ) {
    this.c = content;
    this.client = client;
    this.dedupToken = undefined;
    this.sequence = undefined;
  }

  /** Records, with the bytes that describe them exactly when the caller has them. */
  static ofRecords<S extends Signal>(signal: S, data: RecordsOf<S>, client?: ClientInfo, bytes?: readonly Uint8Array[]): Payload<S> {
    return new Payload(signal, bytes ? { kind: 'records', data, bytes } : { kind: 'records', data }, client);
  }

  static logs(data: LogsData, client?: ClientInfo): LogsPayload {
    return Payload.ofRecords('logs', data, client);
  }

  static traces(data: TracesData, client?: ClientInfo): TracesPayload {
    return Payload.ofRecords('traces', data, client);
  }

  /** Export requests already checked to hold `count` records, not decoded. */
  static ofBytes<S extends Signal>(signal: S, parts: readonly Uint8Array[], count: number, client?: ClientInfo, patches?: LogPatches): Payload<S> {
    return new Payload(signal, patches ? { kind: 'bytes', parts, count, patches } : { kind: 'bytes', parts, count }, client);
  }

  /** Validates one request (throws OtlpDecodeError as the decoder would) and keeps it undecoded. */
  static scan<S extends Signal>(signal: S, bytes: Uint8Array, client?: ClientInfo): Payload<S> {
    const count = signal === 'logs' ? scanLogsProto(bytes) : scanTracesProto(bytes);
    return Payload.ofBytes(signal, [bytes], count, client);
  }

  /**
   * One protobuf Export request: validated and kept as bytes when `lazy`
   * (nothing downstream reads records), else decoded, its bytes kept with
   * the records. Throws OtlpDecodeError on a malformed request either way.
   */
  static fromProto<S extends Signal>(signal: S, bytes: Uint8Array, lazy: boolean, client?: ClientInfo): Payload<S> {
    if (lazy) return Payload.scan(signal, bytes, client);
    const data = (signal === 'logs' ? decodeLogsProto(bytes) : decodeTracesProto(bytes)) as RecordsOf<S>;
    return Payload.ofRecords(signal, data, client, [bytes]);
  }

  /** What it carries right now (no decoding). */
  get content(): Content<S> {
    return this.c;
  }

  /** Records (log records or spans) in it; counting never decodes. */
  get count(): number {
    const c = this.c;
    return c.kind === 'bytes' ? c.count : countRecords(this.signal, c.data);
  }

  /**
   * The records, for reading: DECODES the bytes the first time (patches
   * applied) and keeps the result, so later stages get the same objects.
   * The caller must not change them (see recordsToChange).
   */
  records(): RecordsOf<S> {
    const c = this.c;
    if (c.kind === 'records') return c.data;
    const data = decode(this.signal, c.parts, c.patches);
    this.c = c.patches ? { kind: 'records', data } : { kind: 'records', data, bytes: c.parts };
    return data;
  }

  /** The records, to change in place: decodes as records() does, and lets the bytes go (they would be stale). */
  recordsToChange(): RecordsOf<S> {
    const data = this.records();
    this.c = { kind: 'records', data };
    return data;
  }

  /** Replaces the records (a stage that built new ones); the bytes go. */
  setRecords(data: RecordsOf<S>): void {
    this.c = { kind: 'records', data };
  }

  /**
   * Export requests that are exactly its records, when known: the parts of
   * a payload not decoded (and not patched), or the bytes its records were
   * decoded from or given with. Never encodes.
   */
  bytes(): readonly Uint8Array[] | undefined {
    const c = this.c;
    if (c.kind === 'bytes') return c.patches ? undefined : c.parts;
    return c.bytes;
  }

  /**
   * Changes log records of a payload not decoded yet without building them:
   * `patches[i]` applies to the i-th record (across the parts, in order), on
   * top of patches already there, as setAttr sets attributes. Its bytes
   * alone no longer are its records (bytes() is undefined from now on);
   * readers that know patches read `content.patches` with the parts, and
   * records() applies them.
   */
  patch(patches: LogPatches): void {
    const c = this.c;
    if (c.kind !== 'bytes') throw new Error('Payload.patch: the payload has been decoded; change its records instead');
    this.c = { kind: 'bytes', parts: c.parts, count: c.count, patches: c.patches ? mergePatches(c.patches, patches) : patches };
  }

  /**
   * Replaces the request bytes of a payload not decoded (and not patched) by
   * `parts`, holding the same records in number: a stage that rewrote some
   * requests as bytes (redaction).
   */
  replaceParts(parts: readonly Uint8Array[]): void {
    const c = this.c;
    if (c.kind !== 'bytes' || c.patches) throw new Error('Payload.replaceParts: the payload is decoded or patched');
    this.c = { kind: 'bytes', parts, count: c.count };
  }

  /** Forgets the bytes of decoded records (a stage changed them some other way). */
  dropBytes(): void {
    const c = this.c;
    if (c.kind === 'records' && c.bytes) this.c = { kind: 'records', data: c.data };
  }

  /**
   * Lets go of decoded records whose bytes still describe them exactly, so
   * they can be collected while the payload lives on (an exporter that has
   * encoded them, waiting for the store's answer); records() builds them
   * again if called. Returns whether it did.
   */
  release(): boolean {
    const c = this.c;
    if (c.kind !== 'records' || !c.bytes) return false;
    this.c = { kind: 'bytes', parts: c.bytes, count: countRecords(this.signal, c.data) };
    return true;
  }

  /**
   * Makes the payload Export requests without patches, and returns them:
   * records the bytes describe are let go; otherwise the records (patches
   * applied) are ENCODED into one request, which the payload holds instead.
   * For a stage where payloads wait (correlate's window): they wait as
   * protobuf, whatever form they came in.
   */
  toBytes(): readonly Uint8Array[] {
    const c = this.c;
    if (c.kind === 'bytes' && !c.patches) return c.parts;
    if (c.kind === 'records' && c.bytes) {
      this.release();
      return c.bytes;
    }
    const data = this.records();
    const count = countRecords(this.signal, data);
    const parts = [this.signal === 'logs' ? encodeLogsProto(data as LogsData) : encodeTracesProto(data as TracesData)];
    this.c = { kind: 'bytes', parts, count };
    return parts;
  }

  /**
   * A copy another branch may change independently (fan-out): bytes are
   * shared (never changed in place), records deep-copied. The client comes
   * along; the dedup token does not (the caller derives one per branch).
   */
  copy(): Payload<S> {
    const c = this.c;
    let out: Payload<S>;
    if (c.kind === 'bytes') out = new Payload(this.signal, c, this.client);
    else {
      const data = (this.signal === 'logs' ? cloneLogs(c.data as LogsData) : cloneTraces(c.data as TracesData)) as RecordsOf<S>;
      out = new Payload(this.signal, c.bytes ? { kind: 'records', data, bytes: c.bytes } : { kind: 'records', data }, this.client);
    }
    out.sequence = this.sequence;
    return out;
  }

  /** Type guards for code handling both signals. */
  isLogs(): this is LogsPayload {
    return this.signal === 'logs';
  }
}

function countRecords(signal: Signal, data: LogsData | TracesData): number {
  return signal === 'logs' ? logRecordCount(data as LogsData) : spanCount(data as TracesData);
}

function decode<S extends Signal>(signal: S, parts: readonly Uint8Array[], patches: LogPatches | undefined): RecordsOf<S> {
  if (signal === 'traces') {
    const resourceSpans = parts.length === 1 ? decodeTracesProto(parts[0]!).resourceSpans : parts.flatMap((p) => decodeTracesProto(p).resourceSpans);
    return { resourceSpans } as RecordsOf<S>;
  }
  const resourceLogs = parts.length === 1 ? decodeLogsProto(parts[0]!).resourceLogs : parts.flatMap((p) => decodeLogsProto(p).resourceLogs);
  if (patches) applyLogPatches(resourceLogs, patches);
  return { resourceLogs } as RecordsOf<S>;
}

/** Applies `patch` to a record, as the stage that made it would have. */
export function applyLogPatch(r: LogRecord, patch: LogPatch): void {
  if (patch.traceId !== undefined) r.traceId = patch.traceId;
  if (patch.spanId !== undefined) r.spanId = patch.spanId;
  for (const kv of patch.attributes) setAttr(r.attributes, kv.key, kv.value);
}

function applyLogPatches(resourceLogs: readonly ResourceLogs[], patches: LogPatches): void {
  let i = 0;
  for (const rl of resourceLogs) {
    for (const sl of rl.scopeLogs) {
      for (const r of sl.logRecords) {
        const p = patches[i++];
        if (p) applyLogPatch(r, p);
      }
    }
  }
}

function mergePatches(old: LogPatches, patches: LogPatches): LogPatches {
  const merged = old.slice();
  for (let i = 0; i < patches.length; i++) {
    const p = patches[i];
    if (!p) continue;
    const q = merged[i];
    if (!q) {
      merged[i] = p;
      continue;
    }
    const attributes = q.attributes.map((kv) => ({ key: kv.key, value: kv.value })); // q may be shared (a copy's)
    for (const kv of p.attributes) setAttr(attributes, kv.key, kv.value);
    merged[i] = { traceId: p.traceId ?? q.traceId, spanId: p.spanId ?? q.spanId, attributes };
  }
  return merged;
}
