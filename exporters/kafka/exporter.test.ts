// The kafka exporter against the real broker (test/kafka-broker.ts).
import { Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Factory } from '../../core/component.ts';
import { PermanentError, RefusedError } from '../../core/errors.ts';
import type { ExporterHelper } from '../../core/exporter-helper.ts';
import { logRecordCount, newLogRecord, spanCount } from '../../core/model.ts';
import { decodeLogsProto, decodeTracesProto } from '../../core/otlp/index.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { settingsFor } from '../../test/component-config.ts';
import { sampleLogs, sampleTraces, testHost, testLogger, waitFor } from '../../test/helpers.ts';
import { createTopics as createTestTopics, ensureKafka, testKafka, uniqueTopic } from '../../test/kafka-broker.ts';
import type { KafkaExporterConfig } from './config.ts';
import { kafkaExporterFactory } from './factory.ts';

const factory = kafkaExporterFactory as Factory;
let brokers: string;

interface Got {
  topic: string;
  partition: number;
  key: string | null;
  value: Buffer;
  headers: Record<string, string>;
}

/** Reads every message of `topics` from the start until `until` says enough. */
async function readAll(topics: string[], until: (got: Got[]) => boolean): Promise<Got[]> {
  const consumer = testKafka(brokers).consumer({ groupId: uniqueTopic('reader') });
  const got: Got[] = [];
  await consumer.connect();
  await consumer.subscribe({ topics, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)]));
      got.push({ topic, partition, key: message.key ? message.key.toString() : null, value: message.value!, headers });
    },
  });
  try {
    await waitFor(() => until(got), 30_000, 'messages');
  } finally {
    await consumer.disconnect();
  }
  return got;
}

function createTopics(topics: string[], partitions = 4): Promise<void> {
  return createTestTopics(brokers, topics, partitions);
}

beforeAll(async () => {
  brokers = await ensureKafka();
}, 600_000);

describe('kafka exporter', () => {
  const started: ExporterHelper[] = [];
  afterAll(async () => {
    await Promise.all(started.map((e) => e.shutdown()));
  });

  async function start(user: Record<string, unknown>, metrics = new MetricsRegistry()) {
    const settings = settingsFor<KafkaExporterConfig>(factory, { brokers: brokers.split(','), ...user }, { metrics });
    const exp = kafkaExporterFactory.create(settings) as ExporterHelper;
    await exp.start(testHost());
    started.push(exp);
    return exp;
  }

  it('one OTLP request per target partition; with the murmur2 hasher each trace lands where a kafkajs message keyed by its id lands, on both topics', async () => {
    const logsTopic = uniqueTopic('exp-logs');
    const spansTopic = uniqueTopic('exp-spans');
    await createTopics([logsTopic, spansTopic]);
    const exp = await start({
      logs: { topic: logsTopic },
      traces: { topic: spansTopic },
      partition_traces_by_id: true,
      partition_logs_by_trace_id: true,
      record_partitioner: { sticky_key: { hasher: 'murmur2' } },
    });
    await exp.consumeLogs(sampleLogs(40));
    await exp.consumeTraces(sampleTraces(40));
    // Reference: kafkajs' default partitioner placing a message keyed by each trace id.
    const refTopic = uniqueTopic('exp-ref');
    await createTopics([refTopic]);
    const ids = sampleLogs(40).resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => r.traceId)));
    const producer = testKafka(brokers).producer({ createPartitioner: Partitioners.DefaultPartitioner });
    await producer.connect();
    await producer.send({ topic: refTopic, messages: ids.map((id) => ({ key: id, value: id })) });
    await producer.disconnect();
    const ref = await readAll([refTopic], (g) => g.length >= 40);
    const refPart = new Map(ref.map((m) => [m.key!, m.partition]));

    const recordsOf = (g: Got[]) => g.reduce((n, m) => n + (m.topic === logsTopic ? logRecordCount(decodeLogsProto(m.value)) : spanCount(decodeTracesProto(m.value))), 0);
    const got = await readAll([logsTopic, spansTopic], (g) => recordsOf(g) >= 80);
    expect(recordsOf(got)).toBe(80);
    for (const topic of [logsTopic, spansTopic]) {
      const msgs = got.filter((m) => m.topic === topic);
      // At most one message per partition (4), more than one partition used.
      expect(new Set(msgs.map((m) => m.partition)).size).toBe(msgs.length);
      expect(msgs.length).toBeGreaterThan(1);
      expect(msgs.length).toBeLessThanOrEqual(4);
    }
    for (const m of got) {
      const traceIds =
        m.topic === logsTopic
          ? decodeLogsProto(m.value).resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => r.traceId)))
          : decodeTracesProto(m.value).resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.traceId)));
      // The key is the message's first trace id; every trace sits in its keyed partition.
      expect(m.key).toBe(traceIds[0]);
      for (const id of traceIds) expect(refPart.get(id)).toBe(m.partition);
    }
  });

  it('a topic that does not exist yet is auto-created, then grouped by its partition count', async () => {
    const topic = uniqueTopic('exp-auto');
    // No queue: consumeLogs resolves once the messages are written (the reader needs the topic).
    const exp = await start({ logs: { topic }, partition_logs_by_trace_id: true, sending_queue: { enabled: false } });
    await exp.consumeLogs(sampleLogs(30));
    const got = await readAll([topic], (g) => g.reduce((n, m) => n + logRecordCount(decodeLogsProto(m.value)), 0) >= 30);
    expect(got.reduce((n, m) => n + logRecordCount(decodeLogsProto(m.value)), 0)).toBe(30);
    // One message per partition used, over the broker's default partition count.
    const admin = testKafka(brokers).admin();
    await admin.connect();
    const md = await admin.fetchTopicMetadata({ topics: [topic] });
    await admin.disconnect();
    const count = md.topics[0]!.partitions.length;
    expect(new Set(got.map((m) => m.partition)).size).toBe(got.length);
    expect(got.length).toBeLessThanOrEqual(count);
    if (count > 1) expect(got.length).toBeGreaterThan(1);
  });

  it('one message per batch without partitioning, gzip compressed, json encoding per topic, static record headers', async () => {
    const logsTopic = uniqueTopic('exp-logs-json');
    const spansTopic = uniqueTopic('exp-spans');
    await createTopics([logsTopic, spansTopic]);
    const exp = await start({
      logs: { topic: logsTopic, encoding: 'otlp_json' },
      traces: { topic: spansTopic },
      producer: { compression: 'gzip' },
      record_headers: { team: 'payments', env: 'prod' },
    });
    await exp.consumeLogs(sampleLogs(7));
    await exp.consumeTraces(sampleTraces(5));
    const got = await readAll([logsTopic, spansTopic], (g) => g.length >= 2);
    const logsMsg = got.find((m) => m.topic === logsTopic)!;
    expect(logsMsg.key).toBeNull();
    expect(JSON.parse(logsMsg.value.toString()).resourceLogs[0].scopeLogs[0].logRecords).toHaveLength(7);
    expect(spanCount(decodeTracesProto(got.find((m) => m.topic === spansTopic)!.value))).toBe(5);
    for (const m of got) {
      expect(m.headers).toMatchObject({ team: 'payments', env: 'prod' });
      expect(m.headers['trailhouse-id']).toMatch(/\/0$/);
    }
  });

  it("record_headers as the Collector 0.165 writes them (a list, a name repeated), signal_header, producer.linger", async () => {
    const logsTopic = uniqueTopic('exp-sig-logs');
    const spansTopic = uniqueTopic('exp-sig-spans');
    await createTopics([logsTopic, spansTopic]);
    const exp = await start({
      logs: { topic: logsTopic },
      traces: { topic: spansTopic },
      signal_header: true,
      record_headers: [
        { name: 'team', value: 'payments' },
        { name: 'team', value: 'billing' },
        { name: 'env', value: 'prod' },
      ],
      producer: { linger: '20ms', required_acks: 'all' },
    });
    await exp.consumeLogs(sampleLogs(3));
    await exp.consumeTraces(sampleTraces(2));
    // Headers as the broker stored them, every value of a repeated name in order.
    const consumer = testKafka(brokers).consumer({ groupId: uniqueTopic('reader') });
    const got: Array<{ topic: string; headers: Record<string, string[]> }> = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [logsTopic, spansTopic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ topic, message }) => {
        const headers = Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, (Array.isArray(v) ? v : [v]).map(String)]));
        got.push({ topic, headers });
      },
    });
    try {
      await waitFor(() => got.length >= 2, 30_000, 'both messages');
    } finally {
      await consumer.disconnect();
    }
    for (const m of got) {
      expect(m.headers.team).toEqual(['payments', 'billing']);
      expect(m.headers.env).toEqual(['prod']);
      expect(m.headers['otelcol.signal']).toEqual([m.topic === logsTopic ? 'logs' : 'traces']);
    }
  });

  it('a record that can never fit is a permanent error with one clear log line; the rest is sent', async () => {
    const topic = uniqueTopic('exp-big');
    await createTopics([topic], 1);
    const lines: string[] = [];
    const settings = settingsFor<KafkaExporterConfig>(
      factory,
      { brokers: brokers.split(','), logs: { topic }, producer: { max_message_bytes: 4096 }, sending_queue: { enabled: false } },
      { logger: testLogger(lines) },
    );
    const exp = kafkaExporterFactory.create(settings) as ExporterHelper;
    await exp.start(testHost());
    started.push(exp);
    const data = sampleLogs(3);
    data.resourceLogs[0]!.scopeLogs[0]!.logRecords.push(newLogRecord({ body: 'x'.repeat(10_000) }));
    const err = await exp.consumeLogs(data).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(PermanentError);
    expect((err as Error).message).toMatch(/1 log records dropped: a single one encodes to \d+ bytes, over producer.max_message_bytes \(4096\)/);
    const got = await readAll([topic], (g) => g.length >= 1);
    expect(got.reduce((n, m) => n + logRecordCount(decodeLogsProto(m.value)), 0)).toBe(3);
  });

  it('brokers unreachable: accepted into the queue, retried with backoff, 429 only once the queue is full', async () => {
    const metrics = new MetricsRegistry();
    const lines: string[] = [];
    const settings = settingsFor<KafkaExporterConfig>(
      factory,
      {
        brokers: ['127.0.0.1:1'],
        sending_queue: { queue_size: 2, num_consumers: 1 },
        retry_on_failure: { initial_interval: '50ms', max_interval: '200ms' },
        timeout: '2s',
      },
      { logger: testLogger(lines), metrics },
    );
    const exp = kafkaExporterFactory.create(settings) as ExporterHelper;
    await exp.start(testHost());
    // The first batch is taken by the one consumer (retrying), two more fill the queue.
    await exp.consumeLogs(sampleLogs(1));
    await waitFor(() => metrics.read('otelcol_exporter_send_failed_log_records', { exporter: 'kafka' }) >= 1, 30_000, 'a failed send');
    await exp.consumeLogs(sampleLogs(1));
    await exp.consumeLogs(sampleLogs(1));
    const err = await exp.consumeLogs(sampleLogs(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect((err as RefusedError).reason).toBe('queue_full');
    expect(lines.filter((l) => l.includes('export failed, retrying with backoff'))).toHaveLength(1);
    // kafkajs' own connection errors reach our log, but not once per retry.
    const kafkaLines = lines.filter((l) => l.includes('"msg":"kafka: '));
    expect(kafkaLines.length).toBeLessThan(10);
    await exp.shutdown();
  });
});
