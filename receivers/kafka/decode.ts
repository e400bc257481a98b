/**
 * Message value → payload, by the topic's encoding. A message we cannot
 * decode is skipped and counted; the condition is logged once, then at most
 * once a minute with how many more there were, never once per message.
 */
import type { KafkaMessage } from 'kafkajs';
import type { Signal } from '../../core/model.ts';
import { setAttr } from '../../core/model.ts';
import { decodeLogsJson, decodeLogsProto, decodeTracesJson, decodeTracesProto } from '../../core/otlp/index.ts';
import { Payload } from '../../core/payload.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import { MESSAGE_ID_HEADER } from '../../lib/kafka/messages.ts';
import type { Item } from './chunks.ts';
import { decodeLogMessage, isLogEncoding, type ReceiverEncoding } from './log-encodings.ts';

export interface TopicInfo {
  topic: string;
  signal: Signal;
  encoding: ReceiverEncoding;
  /** Headers copied to each resource as `kafka.header.<name>` (header_extraction); empty = none. */
  extractHeaders: readonly string[];
}

export function decodeMessage(t: TopicInfo, m: KafkaMessage): Item {
  const offset = BigInt(m.offset);
  if (!m.value || m.value.length === 0) throw Object.assign(new Error('empty message value'), { offset });
  const v = m.value;
  if (t.encoding === 'otlp_proto' && t.extractHeaders.length === 0) {
    // Validated and counted now, decoded when a stage reads the records: a
    // fetched batch waits for its turn as bytes, not as objects the garbage
    // collector has to trace again and again (core/payload.ts).
    const data = Payload.scan(t.signal, v);
    return { offset, timestamp: m.timestamp, data, count: data.count, id: messageId(m) };
  }
  const data =
    t.signal === 'logs'
      ? isLogEncoding(t.encoding) ? decodeLogMessage(t.encoding, v) : t.encoding === 'otlp_proto' ? decodeLogsProto(v) : decodeLogsJson(v)
      : t.encoding === 'otlp_proto' ? decodeTracesProto(v) : decodeTracesJson(v);
  if (t.extractHeaders.length && m.headers) {
    const resources = 'resourceLogs' in data ? data.resourceLogs : data.resourceSpans;
    for (const name of t.extractHeaders) {
      const h = m.headers[name];
      const first = Array.isArray(h) ? h[0] : h;
      if (first === undefined) continue;
      const value = first.toString();
      for (const r of resources) setAttr(r.resource.attributes, `kafka.header.${name}`, value);
    }
  }
  const payload = 'resourceLogs' in data ? Payload.logs(data) : Payload.traces(data);
  return { offset, timestamp: m.timestamp, data: payload, count: payload.count, id: messageId(m) };
}

/** The producing batch's message id (lib/kafka/messages.ts), if the producer set one. */
export function messageId(m: KafkaMessage): string | undefined {
  const h = m.headers?.[MESSAGE_ID_HEADER];
  const v = Array.isArray(h) ? h[0] : h;
  return v === undefined ? undefined : v.toString();
}

const EVERY_MS = 60_000;

/** Logs bad messages once per topic, then a summary at most once a minute. */
export class BadMessageLog {
  private readonly state = new Map<string, { last: number; since: number }>();
  constructor(private readonly logger: Logger) {}

  report(topic: string, partition: number, offset: bigint, err: unknown): void {
    const now = Date.now();
    const s = this.state.get(topic);
    if (s && now - s.last < EVERY_MS) {
      s.since++;
      return;
    }
    this.logger.warn('skipping Kafka messages that cannot be decoded', {
      topic,
      partition,
      offset: offset.toString(),
      more_since_last_report: s?.since ?? 0,
      error: err,
    });
    this.state.set(topic, { last: now, since: 0 });
  }
}
