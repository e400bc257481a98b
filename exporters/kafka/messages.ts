/**
 * Payload → Kafka messages. A message's value is one OTLP Export request
 * (ExportLogsServiceRequest / ExportTraceServiceRequest) in protobuf or JSON,
 * which is what the Collector's kafka exporter writes and its receiver reads.
 *
 * With partitioning by trace id, a payload is split into one request per
 * trace id (records keep their resource and scope) and the message key is the
 * 32-char lowercase hex trace id. Both topics use the same partitioner and
 * the same key, so a trace's spans and logs get the same partition number.
 * Records without a trace id go together in one unkeyed message.
 *
 * A request larger than max_message_bytes is split in halves until each
 * piece fits; a single record that cannot fit is reported back as `tooLarge`.
 */
import type { LogsData, ResourceLogs, ResourceSpans, ScopeLogs, ScopeSpans, TracesData } from '../../core/model.ts';
import { logRecordCount, spanCount } from '../../core/model.ts';
import { encodeLogsJson, encodeLogsProto, encodeTracesJson, encodeTracesProto } from '../../core/otlp/index.ts';
import { splitLogs, splitTraces } from '../../core/split.ts';
import { RECORD_OVERHEAD, type Encoding } from './config.ts';

export interface OutMessage {
  key: string | null;
  value: Buffer;
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

/** Names the messages of one batch (call once per batch, after building). */
export function nameMessages(messages: OutMessage[], token: string): void {
  messages.forEach((m, i) => (m.id = `${token}/${i}`));
}

export interface Built {
  messages: OutMessage[];
  /** Records dropped because a single one exceeds the size limit. */
  tooLarge: number;
  /** Size of the largest such record's request, for the error message. */
  largestBytes: number;
}

/** Groups log records by trace id, keeping each under its own resource and scope. */
export function groupLogsByTrace(data: LogsData): Map<string, LogsData> {
  const out = new Map<string, LogsData>();
  for (const rl of data.resourceLogs) {
    // Per trace id: this resource's copy and the current scope's copy in it.
    const rlFor = new Map<string, ResourceLogs>();
    for (const sl of rl.scopeLogs) {
      const slFor = new Map<string, ScopeLogs>();
      for (const r of sl.logRecords) {
        let part = slFor.get(r.traceId);
        if (!part) {
          let rlOut = rlFor.get(r.traceId);
          if (!rlOut) {
            rlOut = { resource: rl.resource, schemaUrl: rl.schemaUrl, scopeLogs: [] };
            rlFor.set(r.traceId, rlOut);
            let d = out.get(r.traceId);
            if (!d) out.set(r.traceId, (d = { resourceLogs: [] }));
            d.resourceLogs.push(rlOut);
          }
          part = { scope: sl.scope, schemaUrl: sl.schemaUrl, logRecords: [] };
          rlOut.scopeLogs.push(part);
          slFor.set(r.traceId, part);
        }
        part.logRecords.push(r);
      }
    }
  }
  return out;
}

export function groupTracesByTrace(data: TracesData): Map<string, TracesData> {
  const out = new Map<string, TracesData>();
  for (const rs of data.resourceSpans) {
    const rsFor = new Map<string, ResourceSpans>();
    for (const ss of rs.scopeSpans) {
      const ssFor = new Map<string, ScopeSpans>();
      for (const sp of ss.spans) {
        let part = ssFor.get(sp.traceId);
        if (!part) {
          let rsOut = rsFor.get(sp.traceId);
          if (!rsOut) {
            rsOut = { resource: rs.resource, schemaUrl: rs.schemaUrl, scopeSpans: [] };
            rsFor.set(sp.traceId, rsOut);
            let d = out.get(sp.traceId);
            if (!d) out.set(sp.traceId, (d = { resourceSpans: [] }));
            d.resourceSpans.push(rsOut);
          }
          part = { scope: ss.scope, schemaUrl: ss.schemaUrl, spans: [] };
          rsOut.scopeSpans.push(part);
          ssFor.set(sp.traceId, part);
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

function encodeFitting<T>(codec: Codec<T>, data: T, key: string | null, maxBytes: number, into: Built): void {
  const value = codec.encode(data);
  const budget = maxBytes - RECORD_OVERHEAD - (key ? key.length : 0);
  if (value.length <= budget) {
    into.messages.push({ key, value });
    return;
  }
  const n = codec.count(data);
  if (n <= 1) {
    into.tooLarge += n;
    into.largestBytes = Math.max(into.largestBytes, value.length);
    return;
  }
  for (const part of codec.split(data, Math.ceil(n / 2))) encodeFitting(codec, part, key, maxBytes, into);
}

export function buildMessages<T>(
  codec: Codec<T>,
  data: T,
  groupByTrace: ((d: T) => Map<string, T>) | null,
  maxBytes: number,
): Built {
  const built: Built = { messages: [], tooLarge: 0, largestBytes: 0 };
  if (!groupByTrace) {
    encodeFitting(codec, data, null, maxBytes, built);
    return built;
  }
  for (const [traceId, part] of groupByTrace(data)) encodeFitting(codec, part, traceId || null, maxBytes, built);
  return built;
}
