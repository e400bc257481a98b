/**
 * Two ingesters in one consumer group: with the co-partitioned assignor and
 * the exporter keying both topics by trace id, every trace's logs and spans
 * are processed by the same member.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Factory, LogsConsumer, TracesConsumer } from '../core/component.ts';
import type { ExporterHelper } from '../core/exporter-helper.ts';
import { newLogRecord, newSpan, type LogsData, type TracesData } from '../core/model.ts';
import { kafkaExporterFactory, type KafkaExporterConfig } from '../exporters/kafka/index.ts';
import { kafkaReceiverFactory, type KafkaReceiver, type KafkaReceiverConfig } from '../receivers/kafka/index.ts';
import { settingsFor } from './component-config.ts';
import { testHost, waitFor } from './helpers.ts';
import { createTopics, ensureKafka, uniqueTopic } from './kafka-broker.ts';
import { Payload } from '../core/payload.ts';
import type { LogsPayload, TracesPayload } from '../core/payload.ts';

class Member implements LogsConsumer, TracesConsumer {
  logTraces = new Set<string>();
  spanTraces = new Set<string>();
  async consumeLogs(payload: LogsPayload) {
    const d = payload.records();
    for (const rl of d.resourceLogs) for (const sl of rl.scopeLogs) for (const r of sl.logRecords) this.logTraces.add(r.traceId);
  }
  async consumeTraces(payload: TracesPayload) {
    const d = payload.records();
    for (const rs of d.resourceSpans) for (const ss of rs.scopeSpans) for (const s of ss.spans) this.spanTraces.add(s.traceId);
  }
}

const TRACES = 300;
const traceId = (i: number) => (0x1000 + i * 7919).toString(16).padStart(32, '0');
const logs = (): LogsData => ({
  resourceLogs: [{
    resource: { attributes: [{ key: 'service.name', value: 'mesh' }], droppedAttributesCount: 0 },
    schemaUrl: '',
    scopeLogs: [{ scope: { name: 'envoy', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: Array.from({ length: TRACES * 2 }, (_, i) => newLogRecord({ body: `l${i}`, traceId: traceId(i % TRACES) })) }],
  }],
});
const spans = (): TracesData => ({
  resourceSpans: [{
    resource: { attributes: [{ key: 'service.name', value: 'mesh' }], droppedAttributesCount: 0 },
    schemaUrl: '',
    scopeSpans: [{ scope: { name: 'envoy', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', spans: Array.from({ length: TRACES }, (_, i) => newSpan({ name: `s${i}`, traceId: traceId(i), spanId: (i + 1).toString(16).padStart(16, '0') })) }],
  }],
});

let brokers: string;
const cleanup: Array<() => Promise<void>> = [];
beforeAll(async () => {
  brokers = await ensureKafka();
}, 600_000);
afterAll(async () => {
  for (const c of cleanup.reverse()) await c();
});

describe('two ingesters in one group', () => {
  it("each trace's logs and spans are processed by the same member", async () => {
    const logsTopic = uniqueTopic('group-logs');
    const spansTopic = uniqueTopic('group-spans');
    const group = uniqueTopic('group');
    await createTopics(brokers, [logsTopic, spansTopic], 6);

    const members = [new Member(), new Member()];
    const receivers: KafkaReceiver[] = [];
    for (const m of members) {
      const r = kafkaReceiverFactory.create(
        settingsFor<KafkaReceiverConfig>(kafkaReceiverFactory as Factory, {
          brokers: [brokers], group_id: group, initial_offset: 'earliest', logs: { topic: logsTopic }, traces: { topic: spansTopic },
          session_timeout: '10s', heartbeat_interval: '1s', max_fetch_wait: '100ms',
        }),
        { logs: m, traces: m },
      ) as KafkaReceiver;
      await r.start(testHost());
      cleanup.push(() => r.shutdown());
      receivers.push(r);
    }
    // Both members in, the 6 partition numbers split between them, same numbers on both topics.
    await waitFor(() => receivers.every((r) => (r.assignment[logsTopic]?.length ?? 0) > 0) &&
      receivers.reduce((n, r) => n + (r.assignment[logsTopic]?.length ?? 0), 0) === 6, 60_000, 'a two-member assignment');
    for (const r of receivers) expect([...r.assignment[spansTopic]!].sort()).toEqual([...r.assignment[logsTopic]!].sort());

    const exp = kafkaExporterFactory.create(
      settingsFor<KafkaExporterConfig>(kafkaExporterFactory as Factory, {
        brokers: [brokers], logs: { topic: logsTopic }, traces: { topic: spansTopic }, partition_traces_by_id: true, partition_logs_by_trace_id: true,
      }),
    ) as ExporterHelper;
    await exp.start(testHost());
    cleanup.push(() => exp.shutdown());
    await exp.consumeLogs(Payload.logs(logs()));
    await exp.consumeTraces(Payload.traces(spans()));

    await waitFor(() => members.reduce((n, m) => n + m.spanTraces.size, 0) === TRACES && members.reduce((n, m) => n + m.logTraces.size, 0) === TRACES, 60_000, 'every trace');
    for (const m of members) {
      expect(m.spanTraces.size).toBeGreaterThan(0);
      expect([...m.logTraces].sort()).toEqual([...m.spanTraces].sort());
    }
    // No trace was split between members.
    const [a, b] = members;
    expect([...a!.spanTraces].filter((t) => b!.spanTraces.has(t) || b!.logTraces.has(t))).toEqual([]);
  });
});
