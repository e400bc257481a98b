/**
 * What a run left on its topic, read back after the gateway has stopped (so
 * none of it is billed): every message consumed from the start, its OTLP
 * records counted by their framing. The bench compares the count with what
 * the load generator had acknowledged, so a gateway that reports records sent
 * but did not write them all cannot pass.
 */
import { countRecords } from '../../../core/otlp/count.ts';
import { testKafka } from '../../../test/kafka-broker.ts';

export async function recordsOnTopic(brokers: string, topic: string, messages: number, timeoutMs = 300_000): Promise<number> {
  const consumer = testKafka(brokers, 'bench-peer-verify').consumer({ groupId: `bench-peer-verify-${topic}`, maxBytes: 64 << 20 });
  let seen = 0;
  let records = 0;
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`read ${seen} of ${messages} messages of ${topic} within ${timeoutMs / 1000} s`)), timeoutMs);
      consumer.run({
        autoCommit: false,
        eachBatch: async ({ batch }) => {
          for (const m of batch.messages) if (m.value) records += countRecords(m.value);
          seen += batch.messages.length;
          if (seen >= messages) {
            clearTimeout(timer);
            resolve();
          }
        },
      }).catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return records;
}
