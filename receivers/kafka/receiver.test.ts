// The kafka receiver against the real broker (test/kafka-broker.ts).
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Factory, LogsConsumer, TracesConsumer } from '../../core/component.ts';
import type { WithDedupToken } from '../../core/exporter-helper.ts';
import type { LogsData, TracesData } from '../../core/model.ts';
import { encodeLogsProto, encodeTracesProto } from '../../core/otlp/index.ts';
import { KafkaJSNonRetriableError } from 'kafkajs';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { settingsFor } from '../../test/component-config.ts';
import { sampleLogs, sampleTraces, sleep, testHost, testLogger, waitFor } from '../../test/helpers.ts';
import { ensureKafka, testKafka, uniqueTopic } from '../../test/kafka-broker.ts';
import type { KafkaReceiverConfig } from './config.ts';
import { kafkaReceiverFactory } from './factory.ts';
import { setPausedSafely, type KafkaReceiver } from './receiver.ts';

const factory = kafkaReceiverFactory as Factory;
let brokers: string;

/** Records every payload with its token; can be told to fail or hang. */
class Recorder implements LogsConsumer, TracesConsumer {
  calls: Array<{ signal: string; token: string | undefined; bodies: string[]; ok: boolean }> = [];
  failing: Error | undefined;
  /** Refuse only payloads whose bodies match. */
  failIf: ((bodies: string[]) => boolean) | undefined;
  hang = false;
  private record(signal: string, data: LogsData | TracesData, bodies: string[]): Promise<void> {
    const token = (data as WithDedupToken).dedupToken;
    if (this.hang) {
      this.calls.push({ signal, token, bodies, ok: false });
      return new Promise(() => {});
    }
    const fail = this.failing ?? (this.failIf?.(bodies) ? new Error('refused') : undefined);
    this.calls.push({ signal, token, bodies, ok: !fail });
    return fail ? Promise.reject(fail) : Promise.resolve();
  }
  consumeLogs(data: LogsData) {
    return this.record('logs', data, data.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => String(r.body)))));
  }
  consumeTraces(data: TracesData) {
    return this.record('traces', data, data.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans.map((s) => s.name))));
  }
  accepted(signal = 'logs') {
    return this.calls.filter((c) => c.ok && c.signal === signal).flatMap((c) => c.bodies);
  }
}

function logsWith(prefix: string, n: number, traceId = ''): LogsData {
  const d = sampleLogs(n);
  d.resourceLogs[0]!.scopeLogs[0]!.logRecords.forEach((r, i) => {
    r.body = `${prefix}-${i}`;
    if (traceId) r.traceId = traceId;
  });
  return d;
}

async function produce(topic: string, values: Array<Buffer | Uint8Array | string>, key?: string): Promise<void> {
  const p = testKafka(brokers).producer({ allowAutoTopicCreation: true });
  await p.connect();
  await p.send({ topic, messages: values.map((v) => ({ key: key ?? null, value: Buffer.from(v as Uint8Array) })) });
  await p.disconnect();
}

async function createTopics(topics: string[], partitions = 1): Promise<void> {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: partitions })), waitForLeaders: true });
  await admin.disconnect();
}

const running: KafkaReceiver[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.shutdown()));
});

async function startReceiver(user: Record<string, unknown>, rec: Recorder, metrics = new MetricsRegistry(), lines: string[] = []) {
  const settings = settingsFor<KafkaReceiverConfig>(
    factory,
    { brokers: brokers.split(','), initial_offset: 'earliest', session_timeout: '6s', heartbeat_interval: '1s', max_fetch_wait: '100ms', ...user },
    { metrics, logger: testLogger(lines) },
  );
  const r = kafkaReceiverFactory.create(settings, { logs: rec, traces: rec }) as KafkaReceiver;
  await r.start(testHost());
  running.push(r);
  await r.joined;
  return r;
}

beforeAll(async () => {
  brokers = await ensureKafka();
}, 600_000);

describe('kafka receiver', () => {
  it('consumes Collector-format requests from both topics; batches carry deterministic tokens', async () => {
    const logs = uniqueTopic('rcv-logs');
    const spans = uniqueTopic('rcv-spans');
    await createTopics([logs, spans]);
    await produce(logs, [encodeLogsProto(logsWith('a', 3)), encodeLogsProto(logsWith('b', 2))]);
    await produce(spans, [encodeTracesProto(sampleTraces(4))]);
    const rec = new Recorder();
    await startReceiver({ group_id: uniqueTopic('g'), logs: { topic: logs }, traces: { topic: spans } }, rec);
    await waitFor(() => rec.accepted('logs').length === 5 && rec.accepted('traces').length === 4, 30_000, 'all records');
    expect(rec.accepted('logs').sort()).toEqual(['a-0', 'a-1', 'a-2', 'b-0', 'b-1']);
    for (const c of rec.calls) expect(c.token).toMatch(new RegExp(`^kafka:(${logs}|${spans}):0:\\d+-\\d+:\\d+$`));
  });

  it("reads every topic a signal's topics list names (the Collector 0.165 form), with the Collector's 1 MiB max_fetch_size", async () => {
    const a = uniqueTopic('rcv-logs-a');
    const b = uniqueTopic('rcv-logs-b');
    await createTopics([a, b]);
    await produce(a, [encodeLogsProto(logsWith('a', 2))]);
    await produce(b, [encodeLogsProto(logsWith('b', 3))]);
    const rec = new Recorder();
    await startReceiver({ group_id: uniqueTopic('g'), logs: { topics: [a, b] }, max_fetch_size: 1048576, max_partition_fetch_size: 1048576 }, rec);
    await waitFor(() => rec.accepted('logs').length === 5, 30_000, 'the records of both topics');
    expect(rec.accepted('logs').sort()).toEqual(['a-0', 'a-1', 'b-0', 'b-1', 'b-2']);
  });

  it('skips garbage messages without stalling, keeps the good ones around them, counts and logs once', async () => {
    const logs = uniqueTopic('rcv-bad');
    await createTopics([logs]);
    const garbage = [Buffer.from([0xff, 0xff, 0xff, 0x01]), Buffer.from('not protobuf at all \u0000\u0001'), Buffer.alloc(0)];
    await produce(logs, [encodeLogsProto(logsWith('g1', 2)), ...garbage, encodeLogsProto(logsWith('g2', 2)), garbage[0]!, encodeLogsProto(logsWith('g3', 1))]);
    const rec = new Recorder();
    const metrics = new MetricsRegistry();
    const lines: string[] = [];
    await startReceiver({ group_id: uniqueTopic('g'), logs: { topic: logs } }, rec, metrics, lines);
    await waitFor(() => rec.accepted().length === 5, 30_000, 'good records');
    expect(rec.accepted().sort()).toEqual(['g1-0', 'g1-1', 'g2-0', 'g2-1', 'g3-0']);
    expect(metrics.read('otelcol_kafka_receiver_unmarshal_failed_log_records', { receiver: 'kafka', topic: logs, partition: '0' })).toBe(4);
    expect(lines.filter((l) => l.includes('skipping Kafka messages that cannot be decoded'))).toHaveLength(1);
    // Later messages still flow: the partition did not stall.
    await produce(logs, [encodeLogsProto(logsWith('g4', 1))]);
    await waitFor(() => rec.accepted().includes('g4-0'), 30_000, 'a later message');
  });

  it('a refusing pipeline: the partition pauses, the same chunks are retried with the same tokens, the offset does not move', async () => {
    const logs = uniqueTopic('rcv-retry');
    await createTopics([logs]);
    await produce(logs, Array.from({ length: 6 }, (_, i) => encodeLogsProto(logsWith(`r${i}`, 1))));
    const rec = new Recorder();
    rec.failing = new Error('clickhouse is down');
    const lines: string[] = [];
    const group = uniqueTopic('g');
    await startReceiver(
      { group_id: group, logs: { topic: logs }, max_batch_records: 3, error_backoff: { initial_interval: '100ms', max_interval: '300ms' } },
      rec,
      new MetricsRegistry(),
      lines,
    );
    await waitFor(() => rec.calls.length >= 6, 30_000, 'several refused attempts');
    expect(new Set(rec.calls.map((c) => c.bodies.join()))).toEqual(new Set(['r0-0,r1-0,r2-0', 'r3-0,r4-0,r5-0']));
    const attempted = new Set(rec.calls.map((c) => c.token));
    expect(attempted.size).toBe(2);
    expect(await committed(group, logs)).toEqual({ offset: '0', metadata: 'trailhouse/v1 0-2,3-5' });
    rec.failing = undefined;
    await waitFor(() => rec.accepted().length === 6, 30_000, 'all records after recovery');
    expect(new Set(rec.calls.filter((c) => c.ok).map((c) => c.token))).toEqual(attempted);
    await waitFor(async () => (await committed(group, logs)).offset === '6', 10_000, 'commit past both chunks');
    expect((await committed(group, logs)).metadata).toBe('');
    expect(lines.filter((l) => l.includes('pausing the partition and retrying'))).toHaveLength(1);
    expect(lines.filter((l) => l.includes('pipeline accepting again'))).toHaveLength(1);
  });

  it('after a crash, the next member re-forms the unfinished chunks with their tokens and skips the finished ones', async () => {
    const logs = uniqueTopic('rcv-crash');
    await createTopics([logs]);
    await produce(logs, Array.from({ length: 8 }, (_, i) => encodeLogsProto(logsWith(`c${i}`, 1))));
    const group = uniqueTopic('g');
    const first = new Recorder();
    // The first chunk is refused, the second accepted: the offset must stay at 0.
    first.failIf = (bodies) => bodies.includes('c0-0');
    const r1 = await startReceiver({ group_id: group, logs: { topic: logs }, max_batch_records: 4, error_backoff: { initial_interval: '100ms' } }, first);
    await waitFor(() => first.accepted().length === 4 && first.calls.length >= 3, 30_000, 'second chunk done, first refused');
    expect(first.accepted()).toEqual(['c4-0', 'c5-0', 'c6-0', 'c7-0']);
    await waitFor(async () => (await committed(group, logs)).metadata === 'trailhouse/v1 0-3,4-7+', 10_000, 'the plan with the done chunk marked');
    expect((await committed(group, logs)).offset).toBe('0');
    const refusedToken = first.calls.find((c) => !c.ok)!.token;
    await r1.shutdown();
    // More data arrives meanwhile; it must not be merged into the planned chunk.
    await produce(logs, Array.from({ length: 3 }, (_, i) => encodeLogsProto(logsWith(`d${i}`, 1))));
    const second = new Recorder();
    await startReceiver({ group_id: group, logs: { topic: logs }, max_batch_records: 100 }, second);
    await waitFor(() => second.accepted().length === 7, 30_000, 'redelivery');
    await sleep(500);
    expect(second.accepted().sort()).toEqual(['c0-0', 'c1-0', 'c2-0', 'c3-0', 'd0-0', 'd1-0', 'd2-0']);
    const redo = second.calls.find((c) => c.bodies.includes('c0-0'))!;
    expect(redo.token).toBe(refusedToken);
    expect(redo.bodies).toEqual(['c0-0', 'c1-0', 'c2-0', 'c3-0']);
  });

  it('a consumer stopped by a non-retriable error is replaced: consumption goes on, nothing lost', async () => {
    const logs = uniqueTopic('rcv-fatal');
    await createTopics([logs]);
    await produce(logs, Array.from({ length: 3 }, (_, i) => encodeLogsProto(logsWith(`f${i}`, 1))));
    const rec = new Recorder();
    const lines: string[] = [];
    const group = uniqueTopic('g');
    const r = await startReceiver({ group_id: group, logs: { topic: logs } }, rec, new MetricsRegistry(), lines);
    await waitFor(() => rec.accepted().length === 3, 30_000, 'the first records');
    // The next commit fails as kafkajs fails when it finds no group
    // coordinator (KafkaJSGroupCoordinatorNotFound is non-retriable): the
    // error leaves eachBatch and kafkajs stops the consumer for good.
    const consumer = (r as unknown as { consumer: { commitOffsets: (...a: unknown[]) => Promise<void> } }).consumer;
    const commit = consumer.commitOffsets.bind(consumer);
    let injected = 0;
    consumer.commitOffsets = (...a: unknown[]) => (injected++ === 0 ? Promise.reject(new KafkaJSNonRetriableError('injected: no group coordinator')) : commit(...a));
    await produce(logs, Array.from({ length: 4 }, (_, i) => encodeLogsProto(logsWith(`s${i}`, 1))));
    await waitFor(() => r.restarts === 1, 30_000, 'the consumer replaced');
    await waitFor(() => ['s0-0', 's1-0', 's2-0', 's3-0'].every((b) => rec.accepted().includes(b)), 60_000, 'records after the restart');
    expect(lines.filter((l) => l.includes('starting a new one'))).toHaveLength(1);
    await waitFor(async () => (await committed(group, logs)).offset === '7', 20_000, 'commits by the new consumer');
    // Nothing was accepted twice under another token (a redelivered chunk keeps its token).
    const tokens = new Map<string, string>();
    for (const c of rec.calls.filter((x) => x.ok)) {
      for (const b of c.bodies) {
        expect(tokens.get(b) ?? c.token).toBe(c.token);
        tokens.set(b, c.token!);
      }
    }
  }, 120_000);

  it('pausing or resuming while kafkajs restarts a consumer (no group yet) is skipped, not thrown', () => {
    // A kafkajs consumer between a crash and its restarted run has no group, like one never run.
    const idle = testKafka(brokers).consumer({ groupId: uniqueTopic('idle') });
    const tp = [{ topic: 'any', partitions: [0] }];
    expect(() => idle.resume(tp)).toThrow(/Consumer group was not initialized/);
    expect(setPausedSafely(idle, tp, false)).toBe(false);
    expect(setPausedSafely(idle, tp, true)).toBe(false);
  });

  it('a hung pipeline at shutdown: the chunk is abandoned uncommitted and redelivered with the same token', async () => {
    const logs = uniqueTopic('rcv-hang');
    await createTopics([logs]);
    await produce(logs, Array.from({ length: 5 }, (_, i) => encodeLogsProto(logsWith(`h${i}`, 1))));
    const group = uniqueTopic('g');
    const first = new Recorder();
    first.hang = true;
    const r1 = await startReceiver({ group_id: group, logs: { topic: logs }, max_batch_records: 4 }, first);
    await waitFor(() => first.calls.length === 2, 30_000, 'both chunks handed over');
    await r1.shutdown();
    const second = new Recorder();
    await startReceiver({ group_id: group, logs: { topic: logs } }, second);
    await waitFor(() => second.accepted().length === 5, 30_000, 'redelivery');
    expect(second.calls.map((c) => c.token).sort()).toEqual(first.calls.map((c) => c.token).sort());
  });
});

async function committed(group: string, topic: string): Promise<{ offset: string; metadata: string | null }> {
  const admin = testKafka(brokers).admin();
  await admin.connect();
  try {
    const res = await admin.fetchOffsets({ groupId: group, topics: [topic] });
    const p = res[0]!.partitions.find((x) => x.partition === 0)!;
    return { offset: p.offset, metadata: p.metadata ?? '' };
  } finally {
    await admin.disconnect();
  }
}
