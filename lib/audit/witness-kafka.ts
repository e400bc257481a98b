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
