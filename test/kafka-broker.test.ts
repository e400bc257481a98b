// Smoke test of the test broker itself, with the features the Kafka exporter
// and receiver rely on: gzip batches, the idempotent producer, consumer groups
// with committed offsets.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CompressionTypes } from 'kafkajs';
import type { Admin } from 'kafkajs';
import { createTopics, ensureKafka, testKafka, uniqueTopic } from './kafka-broker.ts';

describe('test Kafka broker', () => {
  let brokers: string;
  let admin: Admin;

  beforeAll(async () => {
    brokers = await ensureKafka();
    admin = testKafka(brokers).admin();
    await admin.connect();
  });

  afterAll(async () => {
    await admin?.disconnect();
  });

  it('gives fresh topic names', () => {
    const a = uniqueTopic('smoke');
    const b = uniqueTopic('smoke');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^smoke-[a-zA-Z0-9._-]+$/);
    expect(uniqueTopic('a b/c')).toMatch(/^a-b-c-/);
  });

  it('produces gzip with an idempotent producer and consumes it in a group', async () => {
    const topic = uniqueTopic('smoke');
    const groupId = uniqueTopic('smoke-group');
    await createTopics(brokers, [topic], 2);

    const kafka = testKafka(brokers);
    const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
    await producer.connect();
    try {
      const [result] = await producer.send({
        topic,
        acks: -1,
        compression: CompressionTypes.GZIP,
        messages: [{ key: 'trace-1', value: 'hello kafka', headers: { 'content-type': 'text/plain' } }],
      });
      expect(result?.errorCode).toBe(0);
    } finally {
      await producer.disconnect();
    }

    const consumer = kafka.consumer({ groupId });
    await consumer.connect();
    try {
      await consumer.subscribe({ topic, fromBeginning: true });
      const received = await new Promise<{ key: string; value: string; header: string }>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('no message within 45s')), 45_000);
        consumer
          .run({
            eachMessage: async ({ message }) => {
              clearTimeout(timer);
              resolve({
                key: message.key?.toString() ?? '',
                value: message.value?.toString() ?? '',
                header: message.headers?.['content-type']?.toString() ?? '',
              });
            },
          })
          .catch(reject);
      });
      expect(received).toEqual({ key: 'trace-1', value: 'hello kafka', header: 'text/plain' });
    } finally {
      // Disconnecting commits the consumed offset for the group.
      await consumer.disconnect();
    }

    const [offsets] = await admin.fetchOffsets({ groupId, topics: [topic] });
    const committed = offsets?.partitions.map((p) => Number(p.offset)).reduce((a, b) => a + Math.max(b, 0), 0);
    expect(committed).toBe(1);

    await admin.deleteTopics({ topics: [topic] });
  });
});
