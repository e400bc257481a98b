/**
 * A Kafka topic as a witness: each checkpoint is produced (key: the origin,
 * value: the witness record as JSON, acks from all in-sync replicas) before
 * the store gets it. Give the topic to another team's cluster or ACL it so
 * the pipeline may only append (Kafka's WRITE without DELETE/ALTER), and
 * keep it forever (retention.ms=-1); an auditor reads it back with any
 * consumer (`kafka-console-consumer --from-beginning`) into the JSON-lines
 * file `trailhouse verify --checkpoints` takes.
 */
import type { Producer } from 'kafkajs';
import type { Logger } from '../../core/telemetry/logger.ts';
import { createKafkaClient, type SaslConfig, type TlsConfig } from '../kafka/client.ts';
import type { Witness, WitnessRecord } from './witness.ts';

export interface KafkaWitnessOptions {
  brokers: string[];
  topic: string;
  client_id: string;
  tls: TlsConfig | null;
  sasl: SaslConfig | null;
  timeoutMs: number;
  logger: Logger;
}

export class KafkaWitness implements Witness {
  readonly name: string;
  private producer: Promise<Producer> | undefined;

  constructor(private readonly o: KafkaWitnessOptions) {
    this.name = `kafka:${o.topic}`;
  }

  private connect(): Promise<Producer> {
    this.producer ??= (async () => {
      const kafka = await createKafkaClient({ brokers: this.o.brokers, client_id: this.o.client_id, tls: this.o.tls, sasl: this.o.sasl, logger: this.o.logger, requestTimeout: this.o.timeoutMs });
      const p = kafka.producer({ allowAutoTopicCreation: false, idempotent: true, maxInFlightRequests: 1 });
      await p.connect();
      return p;
    })();
    // A failed connection is tried again at the next checkpoint.
    this.producer.catch(() => (this.producer = undefined));
    return this.producer;
  }

  async append(rec: WitnessRecord): Promise<void> {
    const p = await this.connect();
    await p.send({ topic: this.o.topic, acks: -1, timeout: this.o.timeoutMs, messages: [{ key: rec.origin, value: JSON.stringify(rec) }] });
  }

  async close(): Promise<void> {
    const p = await this.producer?.catch(() => undefined);
    this.producer = undefined;
    await p?.disconnect();
  }
}

/**
 * Every record of a Kafka witness topic, as the JSON lines of a witness
 * file (what `trailhouse verify --checkpoints kafka://HOST:PORT[,HOST:PORT]/TOPIC`
 * reads): each partition from its earliest offset up to the high watermark
 * when the read began, in offset order. No consumer group is joined and no
 * offset is committed. Plaintext brokers only; for TLS or SASL, read the
 * topic with your own consumer into a file.
 */
export async function readKafkaWitness(url: string, logger: Logger, timeoutMs = 60_000): Promise<string> {
  const m = /^kafka:\/\/([^/]+)\/([A-Za-z0-9._-]+)$/.exec(url);
  if (!m) throw new Error(`expected kafka://host:port[,host:port]/topic, got ${JSON.stringify(url)}`);
  const [brokers, topic] = [m[1]!.split(','), m[2]!];
  const kafka = await createKafkaClient({ brokers, client_id: 'trailhouse-verify', tls: null, sasl: null, logger, retry: { retries: 2 } });
  const admin = kafka.admin();
  await admin.connect();
  let ends: { partition: number; low: string; high: string }[];
  try {
    ends = await admin.fetchTopicOffsets(topic);
  } finally {
    await admin.disconnect();
  }
  const want = new Map(ends.filter((e) => BigInt(e.high) > BigInt(e.low)).map((e) => [e.partition, BigInt(e.high)]));
  const lines = new Map<number, string[]>(ends.map((e) => [e.partition, []]));
  if (want.size === 0) return '';
  // A group of its own, never committed: reading leaves nothing behind.
  const consumer = kafka.consumer({ groupId: `trailhouse-verify-${process.pid}-${Date.now()}`, allowAutoTopicCreation: false });
  await consumer.connect();
  try {
    await consumer.subscribe({ topic, fromBeginning: true });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${url}: not read to its end within ${timeoutMs / 1000} s`)), timeoutMs);
      consumer
        .run({
          autoCommit: false,
          eachMessage: async ({ partition, message }) => {
            const end = want.get(partition);
            if (end === undefined || BigInt(message.offset) >= end) return;
            lines.get(partition)!.push(message.value ? message.value.toString('utf8') : '');
            if (BigInt(message.offset) + 1n >= end) want.delete(partition);
            if (want.size === 0) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .catch(reject);
    });
  } finally {
    await consumer.disconnect();
  }
  return [...lines.values()].flat().map((l) => `${l}\n`).join('');
}
