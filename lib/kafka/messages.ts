/**
 * Payload → Kafka messages. A message's value is one OTLP Export request
 * (ExportLogsServiceRequest / ExportTraceServiceRequest) in protobuf or JSON,
 * which is what the Collector's kafka exporter writes and its receiver reads.
 *
 * With partitioning by trace id, each trace id is hashed to a partition
 * (partitions.ts: Sarama-compatible FNV-1a by default, as the Collector, or
 * the Java client's murmur2) over the 32-char hex trace id, and a payload is split into one request per target partition
 * (records keep their resource and scope), sent to that partition explicitly
 * and keyed by the first of its trace ids. Both topics hash the same way, so
 * a trace's spans and logs get the same partition number; this is where a
 * message per trace keyed by the trace id would land, at a fraction of the
 * per-message cost (a batch is a few messages, not thousands).
 * Records without a trace id go together in one unkeyed message.
 *
 * A request larger than max_message_bytes is split (into as many pieces as
 * its size asks for, again if a piece still does not fit) until each fits; a single record that cannot fit is reported back as `tooLarge`.
 */
import type { LogsData, ResourceLogs, ResourceSpans, ScopeLogs, ScopeSpans, TracesData } from '../../core/model.ts';
import { logRecordCount, spanCount } from '../../core/model.ts';
import { encodeLogsJson, encodeLogsProto, encodeTracesJson, encodeTracesProto } from '../../core/otlp/index.ts';
import { splitLogs, splitTraces } from '../../core/split.ts';
import { encodeGroup, groupSize, sliceByTrace, splitGroup, type SliceGroup } from '../../core/otlp/slice.ts';
import { RECORD_OVERHEAD, type Encoding } from './encoding.ts';

export interface OutMessage {
  key: string | null;
  value: Buffer;
  /** Explicit target partition; undefined = kafkajs' partitioner decides. */
  partition?: number;
  /** `<batch dedup token>/<index>`: the same on every attempt and replay of the batch (see MESSAGE_ID_HEADER). */
  id?: string;
}

/**
 * Header naming each message by its batch's dedup token and its index in the
 * batch. Building messages is deterministic, so a batch sent again (a retry
 * after an unclear failure, a persistent queue replaying after kill -9) yields
 * the same ids, and the kafka receiver skips a message whose id it saw in
 * the partition's recent past. Other consumers ignore the header.
 */
export const MESSAGE_ID_HEADER = 'trailhouse-id';

/**
 * Names the messages of one batch (call once per batch, after building).
 * Grouped by partition, a message's content depends on the topic's partition
 * count too, so the count is part of the name: a batch replayed after the
 * topic grew never has a message skipped for a different one's id.
 */
export function nameMessages(messages: OutMessage[], token: string, partitions: number | null = null): void {
  const suffix = partitions === null ? '' : `@${partitions}`;
  messages.forEach((m, i) => (m.id = `${token}/${i}${suffix}`));
}

export interface Built {
  messages: OutMessage[];
  /** Records dropped because a single one exceeds the size limit. */
  tooLarge: number;
  /** Size of the largest such record's request, for the error message. */
  largestBytes: number;
}

/** Maps a record's trace id to its group's key ('' = the records without one). */
export type KeyOf = (traceId: string) => string;

const byTraceId: KeyOf = (id) => id;

/**
 * Keys that group trace ids by target partition: the key of a group is the
 * first trace id seen for its partition, so the key of a message hashes to the
 * message's own partition (a tool re-partitioning by key agrees with us).
 */
export class PartitionKeys {
  /** Group key (the first trace id seen for a partition) → that partition. */
  private readonly partOf = new Map<string, number>();
  private readonly first: string[] = [];

  constructor(
    readonly count: number,
    private readonly partitionFor: (traceId: string) => number,
  ) {}

  // Hashing a 32-char id is cheaper than remembering every id of a batch in a map.
  readonly keyOf: KeyOf = (id) => {
    if (id === '') return '';
    const p = this.partitionFor(id);
    let key = this.first[p];
    if (key === undefined) {
      this.first[p] = key = id;
      this.partOf.set(id, p);
    }
    return key;
  };

  /** Partition of a group key (a trace id); undefined for ''. */
  partition(key: string): number | undefined {
    return key === '' ? undefined : this.partOf.get(key);
  }
}

/** Groups log records by trace id (or by keyOf of it), keeping each under its own resource and scope. */
export function groupLogsByTrace(data: LogsData, keyOf: KeyOf = byTraceId): Map<string, LogsData> {
  const out = new Map<string, LogsData>();
  for (const rl of data.resourceLogs) {
    // Per trace id: this resource's copy and the current scope's copy in it.
    const rlFor = new Map<string, ResourceLogs>();
    for (const sl of rl.scopeLogs) {
      const slFor = new Map<string, ScopeLogs>();
      for (const r of sl.logRecords) {
        const k = keyOf(r.traceId);
        let part = slFor.get(k);
        if (!part) {
          let rlOut = rlFor.get(k);
          if (!rlOut) {
            rlOut = { resource: rl.resource, schemaUrl: rl.schemaUrl, scopeLogs: [] };
            rlFor.set(k, rlOut);
            let d = out.get(k);
            if (!d) out.set(k, (d = { resourceLogs: [] }));
            d.resourceLogs.push(rlOut);
          }
          part = { scope: sl.scope, schemaUrl: sl.schemaUrl, logRecords: [] };
          rlOut.scopeLogs.push(part);
          slFor.set(k, part);
        }
        part.logRecords.push(r);
      }
    }
  }
  return out;
}

export function groupTracesByTrace(data: TracesData, keyOf: KeyOf = byTraceId): Map<string, TracesData> {
  const out = new Map<string, TracesData>();
  for (const rs of data.resourceSpans) {
    const rsFor = new Map<string, ResourceSpans>();
    for (const ss of rs.scopeSpans) {
      const ssFor = new Map<string, ScopeSpans>();
      for (const sp of ss.spans) {
        const k = keyOf(sp.traceId);
        let part = ssFor.get(k);
        if (!part) {
          let rsOut = rsFor.get(k);
          if (!rsOut) {
            rsOut = { resource: rs.resource, schemaUrl: rs.schemaUrl, scopeSpans: [] };
            rsFor.set(k, rsOut);
            let d = out.get(k);
            if (!d) out.set(k, (d = { resourceSpans: [] }));
            d.resourceSpans.push(rsOut);
          }
          part = { scope: ss.scope, schemaUrl: ss.schemaUrl, spans: [] };
          rsOut.scopeSpans.push(part);
          ssFor.set(k, part);
        }
        part.spans.push(sp);
      }
    }
  }
  return out;
}

interface Codec<T> {
  encode(d: T): Buffer;
  count(d: T): number;
  split(d: T, max: number): T[];
}

const toBuf = (b: Uint8Array | string): Buffer =>
  typeof b === 'string' ? Buffer.from(b, 'utf8') : Buffer.from(b.buffer, b.byteOffset, b.byteLength);

export function logsCodec(enc: Encoding): Codec<LogsData> {
  return {
    encode: (d) => toBuf(enc === 'otlp_proto' ? encodeLogsProto(d) : encodeLogsJson(d)),
    count: logRecordCount,
    split: splitLogs,
  };
}

export function tracesCodec(enc: Encoding): Codec<TracesData> {
  return {
    encode: (d) => toBuf(enc === 'otlp_proto' ? encodeTracesProto(d) : encodeTracesJson(d)),
    count: spanCount,
    split: splitTraces,
  };
}

function encodeFitting<T>(codec: Codec<T>, data: T, key: string | null, partition: number | undefined, maxBytes: number, into: Built): void {
  const value = codec.encode(data);
  const budget = maxBytes - RECORD_OVERHEAD - (key ? key.length : 0);
  if (value.length <= budget) {
    into.messages.push(partition === undefined ? { key, value } : { key, value, partition });
    return;
  }
  const n = codec.count(data);
  if (n <= 1) {
    into.tooLarge += n;
    into.largestBytes = Math.max(into.largestBytes, value.length);
    return;
  }
  // Straight into as many pieces as the size says (10% spare for uneven
  // records), not halves: halving a batch several times over the limit
  // encoded every record once per level.
  const pieces = Math.min(n, Math.max(2, Math.ceil((value.length * 1.1) / budget)));
  for (const part of codec.split(data, Math.ceil(n / pieces))) encodeFitting(codec, part, key, partition, maxBytes, into);
}

/**
 * One message for the whole payload (groupByTrace null), one per trace id
 * (partitions null), or one per target partition (partitions given: the
 * grouping and explicit partitions of PartitionKeys).
 */
export function buildMessages<T>(
  codec: Codec<T>,
  data: T,
  groupByTrace: ((d: T, keyOf?: KeyOf) => Map<string, T>) | null,
  maxBytes: number,
  partitions: PartitionKeys | null = null,
): Built {
  const built: Built = { messages: [], tooLarge: 0, largestBytes: 0 };
  if (!groupByTrace) {
    encodeFitting(codec, data, null, undefined, maxBytes, built);
    return built;
  }
  const groups = partitions ? groupByTrace(data, partitions.keyOf) : groupByTrace(data);
  for (const [key, part] of groups) encodeFitting(codec, part, key || null, partitions?.partition(key), maxBytes, built);
  return built;
}

function sliceFitting(group: SliceGroup, key: string | null, partition: number | undefined, maxBytes: number, into: Built): void {
  const size = groupSize(group);
  const budget = maxBytes - RECORD_OVERHEAD - (key ? key.length : 0);
  if (size <= budget) {
    const value = encodeGroup(group);
    into.messages.push(partition === undefined ? { key, value } : { key, value, partition });
    return;
  }
  const n = group.records;
  if (n <= 1) {
    into.tooLarge += n;
    into.largestBytes = Math.max(into.largestBytes, size);
    return;
  }
  const pieces = Math.min(n, Math.max(2, Math.ceil((size * 1.1) / budget)));
  for (const part of splitGroup(group, Math.ceil(n / pieces))) sliceFitting(part, key, partition, maxBytes, into);
}

/**
 * buildMessages for protobuf payloads that still have the bytes they arrived
 * as (`Payload.bytes()`): the same messages (groups, keys, partitions, splitting),
 * built by copying each record's bytes instead of decoding and re-encoding
 * (core/otlp/slice.ts). `traceIdField`: TRACE_ID_FIELD.logs or .traces.
 */
export function buildRawMessages(raw: readonly Uint8Array[], traceIdField: number, byTrace: boolean, maxBytes: number, partitions: PartitionKeys | null = null): Built {
  const built: Built = { messages: [], tooLarge: 0, largestBytes: 0 };
  const keyOf: KeyOf = !byTrace ? () => '' : partitions ? partitions.keyOf : byTraceId;
  const groups = sliceByTrace(raw, traceIdField, keyOf);
  for (const [key, group] of groups) sliceFitting(group, byTrace ? key || null : null, byTrace ? partitions?.partition(key) : undefined, maxBytes, built);
  return built;
}
