/**
 * Partition counts of the exporter's topics, for grouping a batch by target
 * partition (messages.ts PartitionKeys), and the hash that picks a trace's
 * partition (`record_partitioner.sticky_key.hasher`, as the Collector's kafka
 * exporter names it):
 *
 * - `sarama_compat` (default, the Collector's default): FNV-1a 32 of the key,
 *   as a signed int32, modulo the count, made positive (Sarama's
 *   HashPartitioner, franz-go's SaramaCompatHasher). Our gateways and
 *   Collector gateways writing the same topics place a trace alike.
 * - `murmur2`: the Java client's and kafkajs' default partitioner (murmur2 of
 *   the key, positive, modulo the count). kafkajs computes murmur2 with
 *   64-bit Long objects (an allocation-heavy path, run for thousands of keys per batch);
 *   murmur2Ascii is the same 32-bit arithmetic with Math.imul, checked
 *   against kafkajs' in the tests.
 *
 * Counts come from the cluster's metadata (an admin client of the exporter's
 * own kafkajs client) and are kept for METADATA_MAX_AGE_MS, like kafkajs'
 * producer metadata; a failed send forgets the topic's count so the retry
 * sees a grown or re-created topic. A topic the broker does not know yet is
 * created the way the keyed path created it: by the producer's metadata
 * request (auto topic creation), through an empty send.
 */
import type { Admin, Kafka, PartitionMetadata, Partitioners, Producer } from 'kafkajs';
import { kafkajs } from '../../lib/kafka/kafkajs.ts';

const METADATA_MAX_AGE_MS = 300_000;

type Partitioner = ReturnType<typeof Partitioners.DefaultPartitioner>;

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** Kafka's murmur2 (Utils.murmur2) of an ASCII string's bytes, as a signed 32-bit int. */
export function murmur2Ascii(key: string): number {
  const length = key.length;
  let h = (SEED ^ length) | 0;
  const end = length & ~3;
  for (let i = 0; i < end; i += 4) {
    let k = key.charCodeAt(i) | (key.charCodeAt(i + 1) << 8) | (key.charCodeAt(i + 2) << 16) | (key.charCodeAt(i + 3) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  switch (length & 3) {
    case 3:
      h ^= key.charCodeAt(end + 2) << 16;
    // falls through
    case 2:
      h ^= key.charCodeAt(end + 1) << 8;
    // falls through
    case 1:
      h ^= key.charCodeAt(end);
      h = Math.imul(h, M);
  }
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h;
}

const ASCII = /^[\x00-\x7f]*$/;

export type Hasher = 'sarama_compat' | 'murmur2';
export const HASHERS: readonly Hasher[] = ['sarama_compat', 'murmur2'];

/** FNV-1a 32 of a string's UTF-8 bytes, unsigned. */
export function fnv1a32(key: string): number {
  let h = 0x811c9dc5;
  const bytes = ASCII.test(key) ? null : Buffer.from(key, 'utf8');
  const n = bytes ? bytes.length : key.length;
  for (let i = 0; i < n; i++) {
    h ^= bytes ? bytes[i]! : key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** The partition of a message keyed by `key` (a trace id: lowercase hex) among `count`. */
export function hashPartitioner(count: number, hasher: Hasher = 'sarama_compat'): (key: string) => number {
  if (hasher === 'sarama_compat') {
    return (key) => {
      // Go: p := int32(h) % int32(n); if p < 0 { p = -p }. JS % truncates like Go's.
      const p = (fnv1a32(key) | 0) % count;
      return (p < 0 ? -p : p) | 0; // | 0: no -0
    };
  }
  const slow = kafkajsPartitioner(count);
  return (key) => (ASCII.test(key) ? (murmur2Ascii(key) & 0x7fffffff) % count : slow(key));
}

/** The partition kafkajs' default partitioner gives a message keyed `key`, with `count` partitions. */
export function kafkajsPartitioner(count: number): (key: string) => number {
  const partitioner: Partitioner = kafkajs().Partitioners.DefaultPartitioner();
  // Every partition with a leader: with a key the hash is modulo the full count anyway.
  const partitionMetadata: PartitionMetadata[] = Array.from({ length: count }, (_, partitionId) => ({
    partitionId,
    leader: 0,
    replicas: [0],
    isr: [0],
    offlineReplicas: [],
    partitionErrorCode: 0,
  }));
  return (key) => partitioner({ topic: '', partitionMetadata, message: { key, value: null } });
}

export class PartitionCounts {
  private admin: Admin | undefined;
  private connecting: Promise<Admin> | undefined;
  private readonly known = new Map<string, { count: number; at: number }>();

  constructor(
    private readonly kafka: Kafka,
    /** The exporter's producer, connected (it may be renewed between calls). */
    private readonly producer: () => Promise<Producer>,
  ) {}

  async count(topic: string): Promise<number> {
    const k = this.known.get(topic);
    if (k && Date.now() - k.at < METADATA_MAX_AGE_MS) return k.count;
    let count = await this.fetch(topic).catch((err: unknown) => {
      if ((err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') throw err;
      return 0;
    });
    if (count === 0) {
      // Not there yet: the producer's metadata request creates it (auto creation).
      await (await this.producer()).send({ topic, messages: [] });
      count = await this.fetch(topic);
    }
    this.known.set(topic, { count, at: Date.now() });
    return count;
  }

  /** After a failed send: ask the cluster again next time. */
  forget(topic: string): void {
    this.known.delete(topic);
  }

  private async fetch(topic: string): Promise<number> {
    const admin = await this.connect();
    try {
      const md = await admin.fetchTopicMetadata({ topics: [topic] });
      const t = md.topics.find((x) => x.name === topic);
      return t ? t.partitions.length : 0;
    } catch (err) {
      // A broker outage: start from a fresh connection next time.
      if ((err as { type?: string }).type !== 'UNKNOWN_TOPIC_OR_PARTITION') await this.close();
      throw err;
    }
  }

  private connect(): Promise<Admin> {
    if (this.admin) return Promise.resolve(this.admin);
    this.connecting ??= (async () => {
      const admin = this.kafka.admin();
      try {
        await admin.connect();
      } finally {
        this.connecting = undefined;
      }
      this.admin = admin;
      return admin;
    })();
    return this.connecting;
  }

  async close(): Promise<void> {
    const a = this.admin;
    this.admin = undefined;
    await a?.disconnect().catch(() => undefined);
  }
}
