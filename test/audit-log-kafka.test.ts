/**
 * The audit log with Kafka ingesters (examples/ingester.yaml as child
 * processes, the test broker, one embedded store directory): each partition
 * is a log of its own. Ingester A is killed with SIGKILL while records
 * are arriving; ingester B (another client of the same group) takes the
 * partitions over from the committed offsets and continues every
 * partition's log from the store: no gap, no repeat, no event twice, every
 * witnessed checkpoint matching the stored rows; a Kafka topic witness
 * holds the same checkpoints as the file. Then a batch Kafka delivers
 * again: A logs the audit rows of chunks it never commits (its logs' store
 * is down) and is killed; B gets the same chunks, adds no leaf for them,
 * and every event is stored once. (A ClickHouse server is what lets two
 * ingesters run at once; the embedded engine allows one process per
 * directory, so here they take turns on one directory.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { Producer } from 'kafkajs';
import { encodeLogsProto } from '../core/otlp/index.ts';
import { makeBatch } from '../scripts/bench/workload.ts';
import { readWitnessFile } from '../lib/audit/witness.ts';
import { checkAuditLog } from './audit-log-check.ts';
import { expectVerifies } from './verify-check.ts';
import { verifyCommand } from '../bin/commands/verify.ts';
import { count } from './default-pipeline.ts';
import { waitFor } from './helpers.ts';
import { createTopics, ensureKafka, testKafka, uniqueTopic } from './kafka-broker.ts';
import { freePort, Trailhouse } from './process.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-auditlog-kafka-'));
const logsTopic = uniqueTopic('auditlog-logs');
const spansTopic = uniqueTopic('auditlog-spans');
const group = uniqueTopic('auditlog-ingesters');
const witnessTopic = uniqueTopic('auditlog-checkpoints');
let running: Trailhouse | undefined;
let producer: Producer;
let brokers: string;

beforeAll(async () => {
  brokers = await ensureKafka();
  await createTopics(brokers, [logsTopic, spansTopic], 4);
  await createTopics(brokers, [witnessTopic], 1);
  producer = testKafka(brokers).producer();
  await producer.connect();
});
afterAll(async () => {
  await running?.kill9();
  await producer?.disconnect();
  rmSync(dir, { recursive: true, force: true });
});

async function ingester(clientId: string): Promise<{ yaml: string; query: number; metrics: number }> {
  const [query, health, metrics] = await Promise.all([freePort(), freePort(), freePort()]);
  const cfg = parse(readFileSync('examples/ingester.yaml', 'utf8')) as Record<string, any>;
  const k = cfg.receivers.kafka;
  k.brokers = [brokers];
  k.group_id = group;
  k.client_id = clientId;
  k.logs.topic = logsTopic;
  k.traces.topic = spansTopic;
  k.max_batch_records = 400; // several batches per partition, so a kill lands between commits
  cfg.processors.correlate.wait = '1s';
  cfg.processors.audit.integrity = { checkpoint_interval: '200ms', witnesses: { kafka: { brokers: [brokers], topic: witnessTopic } } };
  cfg.extensions.clickhouse_store.path = './data';
  cfg.extensions.clickhouse_store.query_endpoint = `127.0.0.1:${query}`;
  cfg.extensions.health_check.endpoint = `127.0.0.1:${health}`;
  cfg.service.telemetry.metrics.address = `127.0.0.1:${metrics}`;
  return { yaml: stringify(cfg), query, metrics };
}

/** Batches of access logs (2% denied), each to one partition in turn. */
async function produce(from: number, to: number): Promise<number> {
  let records = 0;
  for (let i = from; i < to; i++) {
    const logs = makeBatch(50, i).logs;
    records += 100;
    await producer.send({ topic: logsTopic, messages: [{ partition: i % 4, value: Buffer.from(encodeLogsProto(logs)) }] });
  }
  return records;
}

describe('audit log over Kafka: one log per partition, continued by the next ingester', () => {
  it('survives kill -9 of one ingester and a takeover by another', async () => {
    let produced = await produce(0, 40);
    const a = await ingester('ingester-a');
    running = await Trailhouse.start(dir, 'ingester-a', a.yaml);
    const witness = join(dir, 'data', 'witness', 'audit-checkpoints.jsonl');
    await waitFor(() => readWitnessFile(witness).records.length >= 4, 90_000, 'checkpoints of the partitions');
    produced += await produce(40, 80);
    await running.kill9();

    const b = await ingester('ingester-b');
    running = await Trailhouse.start(dir, 'ingester-b', b.yaml);
    produced += await produce(80, 100);
    await waitFor(async () => (await count(b.query, 'SELECT count() FROM otel.otel_logs')) >= produced, 120_000, 'every produced record stored');
    expect(await count(b.query, 'SELECT count() - uniqExact(TraceId, SpanId) FROM otel.otel_logs')).toBe(0);
    expect(await running.stop()).toBe(0);
    const read = readWitnessFile(witness);
    running = await Trailhouse.start(dir, 'ingester-b', b.yaml);

    const origins = await checkAuditLog(b.query, read, join(dir, 'data', 'keys', 'verifiers'));
    // The Kafka witness got the file's checkpoints of each origin in the same order. Witnesses are
    // written one after the other, so the kill -9 may fall between the file's append and the
    // topic's: at most one checkpoint per origin (the one in flight) is missing from the topic, and
    // the newest of each origin, written at the graceful stop, is in both.
    const fileByOrigin = new Map<string, string[]>();
    for (const r of read.records) fileByOrigin.set(r.origin, [...(fileByOrigin.get(r.origin) ?? []), r.note]);
    const newest = new Set([...fileByOrigin.values()].map((notes) => notes[notes.length - 1]!));
    const fromTopic: { origin: string; note: string }[] = [];
    const consumer = testKafka(brokers).consumer({ groupId: uniqueTopic('witness-reader') });
    await consumer.connect();
    await consumer.subscribe({ topic: witnessTopic, fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => void fromTopic.push(JSON.parse(message.value!.toString()) as { origin: string; note: string }) });
    await waitFor(() => [...newest].every((n) => fromTopic.some((r) => r.note === n)), 30_000, 'the newest checkpoint of every origin read back from the topic');
    await consumer.disconnect();
    for (const [origin, notes] of fileByOrigin) {
      const inFile = new Set(notes);
      const topicNotes = [...new Set(fromTopic.filter((r) => r.origin === origin && inFile.has(r.note)).map((r) => r.note))];
      expect(topicNotes, origin).toEqual(notes.filter((n) => topicNotes.includes(n)));
      expect(notes.length - topicNotes.length, origin).toBeLessThanOrEqual(1);
      expect(topicNotes[topicNotes.length - 1], origin).toBe(notes[notes.length - 1]);
    }

    // `trailhouse verify` agrees, for every partition's log.
    const report = await expectVerifies(`http://127.0.0.1:${b.query}`, witness, join(dir, 'data', 'keys', 'verifiers'));
    expect(report.origins.length).toBeGreaterThanOrEqual(4);
    // An auditor can take the witness topic itself as the checkpoints to trust.
    const out: string[] = [];
    const code = await verifyCommand(['--endpoint', `http://127.0.0.1:${b.query}`, '--checkpoints', `kafka://${brokers}/${witnessTopic}`, '--pubkey', join(dir, 'data', 'keys', 'verifiers'), '--json'], { out: (s) => void out.push(s), err: () => undefined });
    expect(code).toBe(0);
    expect(out.join('')).toContain(`kafka://${brokers}/${witnessTopic}`);

    const partitionLogs = [...origins.keys()].filter((o) => o.startsWith(`trailhouse/otel.audit_events/kafka/${group}/${logsTopic}/`)).sort();
    expect(partitionLogs).toEqual([0, 1, 2, 3].map((p) => `trailhouse/otel.audit_events/kafka/${group}/${logsTopic}/${p}`));
  }, 300_000);

  it('a batch delivered again by Kafka adds no leaf: ingester A logs its audit rows but cannot store the logs (so commits nothing) and is killed; B gets the same chunks again', async () => {
    const topic = uniqueTopic('auditlog-redeliver');
    const spans = uniqueTopic('auditlog-redeliver-spans');
    const group2 = uniqueTopic('auditlog-redeliver-group');
    await createTopics(brokers, [topic, spans], 1);
    // Everything produced before A starts: both ingesters fetch it whole and cut the same chunks.
    for (let i = 0; i < 12; i++) await producer.send({ topic, messages: [{ value: Buffer.from(encodeLogsProto(makeBatch(50, 500 + i).logs)) }] });
    const d = mkdtempSync(join(tmpdir(), 'th-auditlog-redeliver-'));
    try {
      const cfg = async (clientId: string, exporterDown: boolean) => {
        const c = parse(await ingester(clientId).then((x) => x.yaml)) as Record<string, any>;
        c.receivers.kafka.group_id = group2;
        c.receivers.kafka.logs.topic = topic;
        c.receivers.kafka.traces.topic = spans;
        c.processors.audit.integrity = { checkpoint_interval: '200ms' };
        // A's logs go to a ClickHouse server that is not there: its audit rows land in the
        // embedded store, the logs never do, so no offset is committed.
        if (exporterDown) c.exporters.clickhouse = { endpoint: 'http://127.0.0.1:1', create_schema: false, sending_queue: { enabled: false }, retry_on_failure: { initial_interval: '100ms', max_interval: '1s', max_elapsed_time: '0s' } };
        return { yaml: stringify(c), query: Number(/127\.0\.0\.1:(\d+)/.exec(c.extensions.clickhouse_store.query_endpoint)![1]), metrics: Number(/:(\d+)$/.exec(c.service.telemetry.metrics.address)![1]) };
      };
      const a = await cfg('redeliver-a', true);
      let proc = await Trailhouse.start(d, 'ingester-a', a.yaml);
      try {
        await waitFor(async () => (await count(a.query, "SELECT count() FROM otel.audit_events WHERE TraceId != ''")) > 0, 60_000, 'A to log audit rows');
        await new Promise((r) => setTimeout(r, 1500)); // every chunk's audit rows, not only the first
      } finally {
        await proc.kill9();
      }
      const b = await cfg('redeliver-b', false);
      proc = await Trailhouse.start(d, 'ingester-b', b.yaml);
      try {
        await waitFor(async () => (await count(b.query, 'SELECT count() FROM otel.otel_logs')) >= 12 * 100, 90_000, 'B to store every log');
        const m = await (await fetch(`http://127.0.0.1:${b.metrics}/metrics`)).text();
        const redelivered = Number(/^trailhouse_audit_log_redelivered_batches (\d+)/m.exec(m)?.[1] ?? 0);
        expect(redelivered).toBeGreaterThan(0);
        // Each classified event once, the log without gaps, and verify agrees.
        expect(await count(b.query, "SELECT count() - uniqExact(TraceId, SpanId, Category, Action) FROM otel.audit_events WHERE TraceId != ''")).toBe(0);
        // Per log: indexes 0..n-1, each once.
        expect(await count(b.query, 'SELECT count() FROM (SELECT max(LogIndex) + 1 AS n, count() AS c, uniqExact(LogIndex) AS u FROM otel.audit_events_log_leaves GROUP BY LogOrigin) WHERE n != c OR u != c')).toBe(0);
        await expectVerifies(`http://127.0.0.1:${b.query}`, join(d, 'data', 'witness', 'audit-checkpoints.jsonl'), join(d, 'data', 'keys', 'verifiers'));
      } finally {
        await proc.stop();
      }
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  }, 300_000);
});
