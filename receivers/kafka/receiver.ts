/**
 * The kafka receiver: consumes OTLP requests from `otlp_logs` / `otlp_spans`
 * (as the Collector's kafka exporter writes them) into the pipelines.
 *
 * Delivery is at-least-once with effectively-once rows:
 * - autoCommit is off; a partition's offset moves past a batch only after the
 *   pipeline's consume promise resolved (the exporter behind it accepted the
 *   rows: run the clickhouse exporter without a sending queue).
 * - batches are deterministic chunks of offsets, planned in the committed
 *   offset's metadata before they are handed over (chunks.ts, partition.ts),
 *   so a redelivered batch carries the same dedup token and ClickHouse drops
 *   the repeat.
 * - a refused batch is retried with growing backoff while its partition
 *   pauses; nothing is skipped. A PermanentError (the data itself is refused)
 *   is logged, counted and committed past.
 * - messages that do not decode are skipped and counted (decode.ts).
 * - assignment is co-partitioned (assigner.ts).
 */
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Component, CreateSettings, Host, NextConsumers } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { observedConsumer, type ObsConsumer } from '../../core/receiver-helper.ts';
import type { Counter } from '../../core/telemetry/metrics.ts';
import { clientTls, createKafkaClient } from '../../lib/kafka/client.ts';
import { coPartitionedAssigner } from './assigner.ts';
import { mergePayloads, parsePlan, type Item } from './chunks.ts';
import type { Payload } from '../../core/payload.ts';
import { partitionFetchSize, receiverTopics, type KafkaReceiverConfig } from './config.ts';
import { BadMessageLog, decodeMessage, messageId, type TopicInfo } from './decode.ts';
import { PartitionWorker, type Chunk } from './partition.ts';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());
const SHUTDOWN_GRACE_MS = 5_000;

export class KafkaReceiver implements Component {
  private kafka: Kafka | undefined;
  private consumer: Consumer | undefined;
  private admin: Admin | undefined;
  private readonly topics = new Map<string, TopicInfo>();
  /** Partition workers of the current generation, by `topic\0partition`. */
  private workers = new Map<string, Promise<PartitionWorker>>();
  private readonly obs: ObsConsumer;
  private readonly bad: BadMessageLog;
  private readonly badCount = new Map<string, Counter>();
  private readonly dropped: Counter;
  private readonly duplicates: Counter;
  private runLoop: Promise<void> | undefined;
  private stopping = false;
  private failingSince = 0;
  private commitWarned = false;
  /** Consumers replaced after a non-retriable crash (observability, tests). */
  restarts = 0;
  private joinedResolve!: () => void;
  /** This member's current assignment, topic → partitions (observability, tests). */
  assignment: Record<string, number[]> = {};
  /** Resolves when the consumer first joined its group (tests, health). */
  readonly joined = new Promise<void>((r) => (this.joinedResolve = r));

  constructor(
    private readonly settings: CreateSettings<KafkaReceiverConfig>,
    next: NextConsumers,
  ) {
    const c = settings.config;
    const extractHeaders = c.header_extraction.extract_headers ? c.header_extraction.headers : [];
    for (const signal of ['logs', 'traces'] as const) {
      if (!next[signal]) continue;
      const encoding = c[signal].encoding ?? c.encoding;
      for (const topic of receiverTopics(c, signal)) this.topics.set(topic, { topic, signal, encoding, extractHeaders });
    }
    this.obs = observedConsumer(settings, next, 'kafka');
    this.bad = new BadMessageLog(settings.logger);
    this.dropped = settings.metrics.counter('trailhouse_kafka_receiver_dropped_items', 'Records the pipeline refused permanently (committed past).', {
      receiver: settings.id,
    });
    this.duplicates = settings.metrics.counter('trailhouse_kafka_receiver_duplicate_messages', 'Second copies of messages (same trailhouse-id) skipped.', {
      receiver: settings.id,
    });
  }

  /**
   * The Collector's count of messages that could not be decoded, by signal,
   * topic and partition (created on the first failure: failures are rare).
   */
  private unmarshalFailed(t: TopicInfo, partition: number): Counter {
    const key = `${t.topic}\u0000${partition}`;
    let c = this.badCount.get(key);
    if (!c) {
      const noun = t.signal === 'logs' ? 'log_records' : 'spans';
      c = this.settings.metrics.counter(`otelcol_kafka_receiver_unmarshal_failed_${noun}`, `Number of ${noun.replace('_', ' ')} failed to be unmarshaled (messages skipped).`, {
        receiver: this.settings.id,
        topic: t.topic,
        partition: String(partition),
      });
      this.badCount.set(key, c);
    }
    return c;
  }

  async start(_host: Host): Promise<void> {
    if (this.topics.size === 0) throw new Error('the kafka receiver is in no logs or traces pipeline');
    const c = this.settings.config;
    this.kafka = await createKafkaClient({ brokers: c.brokers, client_id: c.client_id, tls: clientTls(c), sasl: c.auth.sasl, logger: this.settings.logger, connectionTimeout: c.dial_timeout });
    this.admin = this.kafka.admin();
    this.consumer = this.newConsumer();
    this.runLoop = this.connectAndRun();
  }

  private newConsumer(): Consumer {
    const c = this.settings.config;
    const log = this.settings.logger;
    const consumer = this.kafka!.consumer({
      groupId: c.group_id,
      sessionTimeout: c.session_timeout,
      heartbeatInterval: c.heartbeat_interval,
      partitionAssigners: [coPartitionedAssigner],
      minBytes: c.min_fetch_size,
      maxBytesPerPartition: partitionFetchSize(c),
      maxBytes: c.max_fetch_size || Math.max(10 * 1024 * 1024, partitionFetchSize(c) * 4),
      maxWaitTimeInMs: c.max_fetch_wait,
      metadataMaxAge: c.metadata.refresh_interval,
      ...(c.rack_id ? { rackId: c.rack_id } : {}),
      allowAutoTopicCreation: true,
      retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
    const ev = consumer.events;
    consumer.on(ev.GROUP_JOIN, (e) => {
      // A new generation: our workers' plans may belong to someone else now.
      this.revokeAll(true);
      this.assignment = e.payload.memberAssignment;
      log.info('joined consumer group', { group_id: c.group_id, assignment: e.payload.memberAssignment });
      this.joinedResolve();
    });
    consumer.on(ev.CRASH, (e) => {
      // kafkajs restarts the consumer itself after a retriable error. After
      // any other (e.g. no group coordinator while a broker restarts) it
      // stays stopped: an ingester must not, so start a new consumer.
      if (!e.payload.restart && !this.stopping && consumer === this.consumer) this.replaceConsumer(e.payload.error);
    });
    return consumer;
  }

  /**
   * Drops the current generation's workers (their chunks in flight finish but
   * commit nothing; the next owner re-forms them from the committed plan, with
   * the same tokens).
   */
  private revokeAll(resume: boolean): void {
    const old = this.workers;
    this.workers = new Map();
    for (const [key, w] of old) {
      void w.then((x) => x.revoke(), () => undefined);
      if (resume) {
        const [topic, partition] = splitKey(key);
        setPausedSafely(this.consumer!, [{ topic, partitions: [partition] }], false);
      }
    }
  }

  private replaceConsumer(err: Error): void {
    const old = this.consumer!;
    this.restarts++;
    this.settings.logger.error('kafka consumer stopped on a non-retriable error; starting a new one', { error: err, restarts: this.restarts });
    this.revokeAll(false);
    this.assignment = {};
    this.consumer = this.newConsumer();
    const previous = this.runLoop;
    this.runLoop = (async () => {
      await previous;
      await old.disconnect().catch(() => undefined);
      await sleep(Math.min(1_000 * this.restarts, 5_000));
      await this.connectAndRun();
    })();
  }

  /** Connects, retrying while Kafka is unreachable: an ingester may start before its brokers. */
  private async connectAndRun(): Promise<void> {
    const c = this.settings.config;
    let delay = 1_000;
    let warned = false;
    while (!this.stopping) {
      try {
        await this.admin!.connect();
        await this.consumer!.connect();
        await this.consumer!.subscribe({ topics: [...this.topics.keys()], fromBeginning: c.initial_offset === 'earliest' });
        await this.consumer!.run({
          autoCommit: false,
          eachBatchAutoResolve: false,
          partitionsConsumedConcurrently: 8,
          eachBatch: (p) => this.eachBatch(p),
        });
        if (warned) this.settings.logger.info('connected to kafka');
        return;
      } catch (err) {
        if (!warned) this.settings.logger.warn('kafka consumer not ready (brokers unreachable or topics being created), retrying', { brokers: c.brokers, error: err });
        warned = true;
        await this.consumer!.disconnect().catch(() => undefined);
        await sleep(delay);
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }

  private worker(topic: string, partition: number): Promise<PartitionWorker> {
    const key = `${topic}\u0000${partition}`;
    let w = this.workers.get(key);
    if (!w) {
      const map = this.workers;
      w = this.createWorker(topic, partition);
      map.set(key, w);
      // A failed plan lookup is retried on the next fetch.
      void w.catch(() => map.get(key) === w && map.delete(key));
    }
    return w;
  }

  private async createWorker(topic: string, partition: number): Promise<PartitionWorker> {
    const c = this.settings.config;
    const res = await this.admin!.fetchOffsets({ groupId: c.group_id, topics: [topic] });
    const p = res.find((t) => t.topic === topic)?.partitions.find((x) => x.partition === partition);
    const recovered = p ? parsePlan(p.metadata, p.offset) : [];
    // Warm-up: learn the ids of the messages just before the committed offset.
    let warm: { from: bigint; until: bigint } | null = null;
    if (c.dedup_window > 0 && p && /^\d+$/.test(p.offset) && p.offset !== '0') {
      const until = BigInt(p.offset);
      const low = BigInt((await this.admin!.fetchTopicOffsets(topic)).find((x) => x.partition === partition)?.low ?? '0');
      const from = until - BigInt(c.dedup_window) > low ? until - BigInt(c.dedup_window) : low;
      if (from < until) warm = { from, until };
    }
    const t = this.topics.get(topic)!;
    const log = this.settings.logger;
    const tp = [{ topic, partitions: [partition] }];
    const worker = new PartitionWorker(
      {
        topic,
        partition,
        maxRecords: c.max_batch_records,
        maxInflight: c.max_inflight_batches,
        backoff: c.error_backoff,
        commit: (offset, metadata) => this.consumer!.commitOffsets([{ topic, partition, offset: offset.toString(), metadata }]),
        dispatch: (chunk) => this.dispatch(t, partition, chunk),
        setPaused: (paused) => setPausedSafely(this.consumer!, tp, paused),
        onAccepted: () => {
          if (this.failingSince) {
            log.info('pipeline accepting again', { after_ms: Date.now() - this.failingSince });
            this.failingSince = 0;
          }
        },
        onRefused: (chunk, err) => {
          if (this.failingSince) return;
          this.failingSince = Date.now();
          log.warn('pipeline refused a batch; pausing the partition and retrying with backoff', { topic, partition, offsets: `${chunk.start}-${chunk.end}`, error: err });
        },
        onPermanent: (chunk, err) => {
          const n = chunk.items.reduce((s, i) => s + i.count, 0);
          this.dropped.add(n);
          log.error('pipeline refused a batch permanently; skipping it', { topic, partition, offsets: `${chunk.start}-${chunk.end}`, items: n, error: err });
        },
        onCommitFailed: (err) => {
          if (this.commitWarned || this.stopping) return;
          this.commitWarned = true;
          log.warn('cannot commit offsets yet; retrying', { topic, partition, error: err });
        },
        onDuplicate: () => this.duplicates.add(1),
        dedupWindow: c.dedup_window,
      },
      recovered,
    );
    if (warm) {
      worker.warmFrom = warm.from;
      worker.warmUntil = warm.until;
    }
    return worker;
  }

  private dispatch(t: TopicInfo, partition: number, chunk: Chunk): Promise<void> {
    const good = chunk.items.filter((i) => i.data !== null && !i.dup);
    const payload = mergePayloads(t.signal, good);
    payload.dedupToken = chunk.token;
    // The stream, named the same on whichever group member reads it (the audit log's origin per partition).
    payload.sequence = `kafka/${this.settings.config.group_id}/${t.topic}/${partition}`;
    return payload.isLogs() ? this.obs.logs(payload) : this.obs.traces(payload as Payload<'traces'>);
  }

  private decodeAll(t: TopicInfo, partition: number, w: PartitionWorker, batch: EachBatchPayload['batch']): Item[] {
    return batch.messages.map((m) => {
      const offset = BigInt(m.offset);
      // Read back only to learn ids (warm-up): no need to decode.
      if (offset < w.warmUntil) return { offset, timestamp: m.timestamp, data: null, count: 0, id: messageId(m) };
      try {
        return decodeMessage(t, m);
      } catch (err) {
        if (offset > w.countedBad) {
          w.countedBad = offset;
          this.unmarshalFailed(t, partition).add(1);
          this.bad.report(t.topic, partition, offset, err);
        }
        return { offset, timestamp: m.timestamp, data: null, count: 0 };
      }
    });
  }

  private async eachBatch({ batch, resolveOffset, isRunning, isStale }: EachBatchPayload): Promise<void> {
    const t = this.topics.get(batch.topic);
    if (!t || this.stopping || !isRunning() || isStale()) return;
    const w = await this.worker(batch.topic, batch.partition);
    if (w.warmFrom !== null) {
      // First read back the messages before the committed offset (ids only).
      const from = w.warmFrom;
      w.warmFrom = null;
      this.consumer!.seek({ topic: batch.topic, partition: batch.partition, offset: from.toString() });
      return;
    }
    const resolved = await w.feed(this.decodeAll(t, batch.partition, w, batch));
    if (resolved !== null) resolveOffset(resolved.toString());
  }

  /**
   * Stops taking new batches, lets the ones in flight finish and commit
   * (bounded), then leaves the group. Whatever did not finish is redelivered
   * to the next owner as the same chunks.
   */
  readonly shutdown = once(async () => {
    this.stopping = true;
    const workers = await Promise.allSettled([...this.workers.values()]);
    const drains = workers.flatMap((r) => (r.status === 'fulfilled' ? [r.value.drain()] : []));
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.all(drains), new Promise<void>((r) => (timer = setTimeout(r, SHUTDOWN_GRACE_MS)))]);
    clearTimeout(timer);
    for (const r of workers) if (r.status === 'fulfilled') r.value.revoke();
    await this.runLoop;
    await this.consumer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
  });
}

/**
 * Pauses or resumes partitions, never throwing: while kafkajs restarts a
 * crashed consumer its group is torn down and pause/resume throw ("consumer
 * group was not initialized"), from a batch's completion where nothing would
 * catch it and the ingester would die. Nothing is lost by skipping: the
 * restarted consumer joins again, and on joining every worker is revoked and
 * every partition resumed (revokeAll).
 */
export function setPausedSafely(consumer: Pick<Consumer, 'pause' | 'resume'>, tp: Array<{ topic: string; partitions: number[] }>, paused: boolean): boolean {
  try {
    if (paused) consumer.pause(tp);
    else consumer.resume(tp);
    return true;
  } catch {
    return false;
  }
}

function splitKey(key: string): [string, number] {
  const i = key.lastIndexOf('\u0000');
  return [key.slice(0, i), Number(key.slice(i + 1))];
}
