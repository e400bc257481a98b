/**
 * The kafka receiver: consumes OTLP requests from `otlp_logs` / `otlp_spans`
 * (as the Collector's kafka exporter writes them) into the pipelines.
 *
 * Delivery is at-least-once with effectively-once rows:
 * - autoCommit is off; a partition's offset moves past a batch only after the
 *   pipeline's consume promise resolved (the exporter behind it accepted the
 *   rows: run the clickhouse exporter without a sending queue).
 * - batches are deterministic chunks of offsets (chunks.ts): a redelivered
 *   batch carries the same dedup token, so ClickHouse drops the repeat.
 * - when the pipeline refuses a batch, that partition pauses and retries the
 *   same chunk with growing backoff; nothing is skipped. A PermanentError
 *   (the data itself is refused) is logged, counted and committed past.
 * - messages that do not decode are skipped and counted (decode.ts).
 * - assignment is co-partitioned (assigner.ts).
 */
import type { Admin, Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Component, CreateSettings, Host, NextConsumers } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { PermanentError } from '../../core/errors.ts';
import type { WithDedupToken } from '../../core/exporter-helper.ts';
import { observedConsumer, type ObsConsumer } from '../../core/receiver-helper.ts';
import type { Counter } from '../../core/telemetry/metrics.ts';
import { createKafkaClient } from '../../exporters/kafka/client.ts';
import { coPartitionedAssigner } from './assigner.ts';
import { chunkToken, mergeLogs, mergeTraces, nextChunk, parsePlan, planMetadata, type Item, type Plan } from './chunks.ts';
import type { KafkaReceiverConfig } from './config.ts';
import { BadMessageLog, decodeMessage, type TopicInfo } from './decode.ts';

interface PartitionState {
  /** The recorded plan was read from the group's committed offset. */
  loaded: boolean;
  /** The chunk planned and not yet committed past. */
  plan: Plan | null;
  /** Items held while completing a planned chunk across fetches. */
  carry: Item[];
  /** Highest offset whose decode failure was already counted. */
  countedBad: bigint;
  backoff: number;
  timer: NodeJS.Timeout | undefined;
}

type Outcome = 'done' | 'retry' | 'abandoned';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms).unref());

export class KafkaReceiver implements Component {
  private kafka: Kafka | undefined;
  private consumer: Consumer | undefined;
  private admin: Admin | undefined;
  private readonly topics = new Map<string, TopicInfo>();
  private readonly parts = new Map<string, PartitionState>();
  private readonly obs: ObsConsumer;
  private readonly bad: BadMessageLog;
  private readonly badCount = new Map<string, Counter>();
  private readonly dropped: Counter;
  private readonly inflight = new Set<Promise<void>>();
  private runLoop: Promise<void> | undefined;
  private stopping = false;
  private abandon = false;
  private failingSince = 0;
  private joinedResolve!: () => void;
  /** Resolves when the consumer first joined its group (tests, health). */
  readonly joined = new Promise<void>((r) => (this.joinedResolve = r));

  constructor(
    private readonly settings: CreateSettings<KafkaReceiverConfig>,
    next: NextConsumers,
  ) {
    const c = settings.config;
    if (next.logs) this.topics.set(c.logs.topic, { topic: c.logs.topic, signal: 'logs', encoding: c.logs.encoding ?? c.encoding });
    if (next.traces) this.topics.set(c.traces.topic, { topic: c.traces.topic, signal: 'traces', encoding: c.traces.encoding ?? c.encoding });
    this.obs = observedConsumer(settings, next, 'kafka');
    this.bad = new BadMessageLog(settings.logger);
    for (const t of this.topics.keys()) {
      this.badCount.set(
        t,
        settings.metrics.counter('otelcol_kafka_receiver_unmarshal_failed_messages', 'Kafka messages that could not be decoded and were skipped.', {
          receiver: settings.id,
          topic: t,
        }),
      );
    }
    this.dropped = settings.metrics.counter('otelcol_kafka_receiver_dropped_items', 'Records the pipeline refused permanently (committed past).', {
      receiver: settings.id,
    });
  }

  async start(host: Host): Promise<void> {
    const c = this.settings.config;
    const log = this.settings.logger;
    this.kafka = await createKafkaClient({ brokers: c.brokers, client_id: c.client_id, auth: c.auth, logger: log });
    this.consumer = this.kafka.consumer({
      groupId: c.group_id,
      sessionTimeout: c.session_timeout,
      heartbeatInterval: c.heartbeat_interval,
      partitionAssigners: [coPartitionedAssigner],
      minBytes: c.min_fetch_size,
      maxBytesPerPartition: c.default_fetch_size,
      maxBytes: Math.max(10 * 1024 * 1024, c.default_fetch_size * 4),
      maxWaitTimeInMs: c.max_fetch_wait,
      allowAutoTopicCreation: true,
      retry: { retries: 8, initialRetryTime: 300, maxRetryTime: 10_000 },
    });
    this.admin = this.kafka.admin();
    const ev = this.consumer.events;
    this.consumer.on(ev.GROUP_JOIN, (e) => {
      // A new generation: what we planned in memory may belong to someone else now.
      for (const [key, st] of this.parts) {
        if (st.timer) clearTimeout(st.timer);
        const [topic, partition] = splitKey(key);
        this.consumer!.resume([{ topic, partitions: [partition] }]);
      }
      this.parts.clear();
      log.info('joined consumer group', { group_id: c.group_id, assignment: e.payload.memberAssignment });
      this.joinedResolve();
    });
    this.consumer.on(ev.CRASH, (e) => {
      if (!e.payload.restart && !this.stopping) host.reportFatal(new Error(`kafka consumer stopped: ${e.payload.error.message}`));
    });
    if (this.topics.size === 0) throw new Error('the kafka receiver is in no logs or traces pipeline');
    this.runLoop = this.connectAndRun();
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
          eachBatch: (p) => this.track(this.eachBatch(p)),
        });
        if (warned) this.settings.logger.info('connected to kafka');
        return;
      } catch (err) {
        if (!warned) this.settings.logger.warn('cannot reach kafka, retrying', { brokers: c.brokers, error: err });
        warned = true;
        await this.consumer!.disconnect().catch(() => undefined);
        await sleep(delay);
        delay = Math.min(delay * 2, 30_000);
      }
    }
  }

  private track(p: Promise<void>): Promise<void> {
    this.inflight.add(p);
    return p.finally(() => this.inflight.delete(p));
  }

  private state(topic: string, partition: number): PartitionState {
    const key = `${topic}\u0000${partition}`;
    let st = this.parts.get(key);
    if (!st) {
      st = { loaded: false, plan: null, carry: [], countedBad: -1n, backoff: 0, timer: undefined };
      this.parts.set(key, st);
    }
    return st;
  }

  private async loadPlan(topic: string, partition: number): Promise<Plan | null> {
    const res = await this.admin!.fetchOffsets({ groupId: this.settings.config.group_id, topics: [topic] });
    const p = res.find((t) => t.topic === topic)?.partitions.find((x) => x.partition === partition);
    return p ? parsePlan(p.metadata, p.offset) : null;
  }

  private commit(topic: string, partition: number, offset: bigint, metadata: string): Promise<void> {
    return this.consumer!.commitOffsets([{ topic, partition, offset: offset.toString(), metadata }]);
  }

  private decodeAll(t: TopicInfo, partition: number, st: PartitionState, batch: EachBatchPayload['batch']): Item[] {
    return batch.messages.map((m) => {
      try {
        return decodeMessage(t, m);
      } catch (err) {
        const offset = BigInt(m.offset);
        if (offset > st.countedBad) {
          st.countedBad = offset;
          this.badCount.get(t.topic)!.add(1);
          this.bad.report(t.topic, partition, offset, err);
        }
        return { offset, timestamp: m.timestamp, data: null, count: 0 };
      }
    });
  }

  private async eachBatch(p: EachBatchPayload): Promise<void> {
    const { batch, resolveOffset, heartbeat, isRunning, isStale } = p;
    const { topic, partition } = batch;
    const t = this.topics.get(topic);
    const alive = () => !this.stopping && isRunning() && !isStale();
    if (!t || !alive()) return;
    const st = this.state(topic, partition);
    if (!st.loaded) {
      st.plan = await this.loadPlan(topic, partition);
      st.loaded = true;
    }
    let items = this.decodeAll(t, partition, st, batch);
    if (st.carry.length > 0) {
      const last = st.carry[st.carry.length - 1]!.offset;
      items = [...st.carry, ...items.filter((i) => i.offset > last)];
      st.carry = [];
    }
    if (st.plan) {
      const start = st.plan.start;
      items = items.filter((i) => i.offset >= start);
    }
    let doneUpTo: bigint | null = null;
    const flush = async () => {
      if (doneUpTo !== null) await this.commit(topic, partition, doneUpTo, '');
      doneUpTo = null;
    };
    let i = 0;
    while (i < items.length) {
      if (!alive()) return flush();
      const n = nextChunk(items, i, st.plan, this.settings.config.max_batch_records);
      if (n.kind === 'incomplete') {
        st.carry = items.slice(i);
        resolveOffset(items[items.length - 1]!.offset.toString());
        return flush();
      }
      const chunk = items.slice(i, n.to);
      if (!n.planned) {
        // Record the boundary before anything downstream can see the chunk.
        await this.commit(topic, partition, n.plan.start, planMetadata(n.plan));
        doneUpTo = null;
        st.plan = n.plan;
      }
      const outcome = await this.process(t, partition, chunk, n.plan, heartbeat);
      if (outcome === 'abandoned') return;
      if (outcome === 'retry') {
        this.retryLater(topic, partition, st, n.plan.start);
        return;
      }
      st.plan = null;
      st.backoff = 0;
      resolveOffset(chunk[chunk.length - 1]!.offset.toString());
      doneUpTo = n.plan.end + 1n;
      i = n.to;
    }
    await flush();
  }

  private async process(t: TopicInfo, partition: number, chunk: Item[], plan: Plan, heartbeat: () => Promise<void>): Promise<Outcome> {
    const good = chunk.filter((i) => i.data !== null);
    if (good.length === 0) return 'done';
    const payload: (ReturnType<typeof mergeLogs> | ReturnType<typeof mergeTraces>) & WithDedupToken =
      t.signal === 'logs' ? mergeLogs(good) : mergeTraces(good);
    payload.dedupToken = chunkToken(t.topic, partition, plan, chunk[0]!.timestamp);
    const consume = t.signal === 'logs' ? this.obs.logs(payload as never) : this.obs.traces(payload as never);
    let settled = false;
    let failed = false;
    let failure: unknown;
    const watched = consume.then(
      () => void (settled = true),
      (err: unknown) => {
        settled = failed = true;
        failure = err;
      },
    );
    while (!settled) {
      await Promise.race([watched, sleep(1_000)]);
      if (settled) break;
      if (this.abandon) return 'abandoned';
      // Long inserts (ClickHouse retrying) must not cost us the group membership.
      await heartbeat();
    }
    const log = this.settings.logger;
    if (!failed) {
      if (this.failingSince) {
        log.info('pipeline accepting again', { after_ms: Date.now() - this.failingSince });
        this.failingSince = 0;
      }
      return 'done';
    }
    if (failure instanceof PermanentError) {
      const n = good.reduce((s, i) => s + i.count, 0);
      this.dropped.add(n);
      log.error('pipeline refused a batch permanently; skipping it', { topic: t.topic, partition, offsets: `${plan.start}-${plan.end}`, items: n, error: failure });
      return 'done';
    }
    if (!this.failingSince) {
      this.failingSince = Date.now();
      log.warn('pipeline refused a batch; pausing the partition and retrying with backoff', { topic: t.topic, partition, error: failure });
    }
    return 'retry';
  }

  /** Pauses the partition and fetches the same chunk again after a growing delay. */
  private retryLater(topic: string, partition: number, st: PartitionState, from: bigint): void {
    const b = this.settings.config.error_backoff;
    st.backoff = st.backoff ? Math.min(st.backoff * b.multiplier, b.max_interval) : b.initial_interval;
    st.carry = [];
    const tp = [{ topic, partitions: [partition] }];
    this.consumer!.pause(tp);
    this.consumer!.seek({ topic, partition, offset: from.toString() });
    if (st.timer) clearTimeout(st.timer);
    st.timer = setTimeout(() => {
      st.timer = undefined;
      if (!this.stopping) this.consumer!.resume(tp);
    }, st.backoff);
  }

  /**
   * Stops fetching, lets the batches in flight finish and commit (bounded),
   * then leaves the group. Whatever did not finish is redelivered to the
   * next owner as the same chunk.
   */
  readonly shutdown = once(async () => {
    this.stopping = true;
    for (const st of this.parts.values()) if (st.timer) clearTimeout(st.timer);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([Promise.allSettled([...this.inflight]), new Promise<void>((r) => (timer = setTimeout(r, 5_000)))]);
    clearTimeout(timer);
    this.abandon = true;
    await this.runLoop;
    await this.consumer?.disconnect().catch(() => undefined);
    await this.admin?.disconnect().catch(() => undefined);
  });
}

function splitKey(key: string): [string, number] {
  const i = key.lastIndexOf('\u0000');
  return [key.slice(0, i), Number(key.slice(i + 1))];
}
