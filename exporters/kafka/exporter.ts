/**
 * The kafka exporter: OTLP requests onto `otlp_logs` / `otlp_spans`.
 * Queue, retry and timeout come from core/exporter-helper.ts; this file only
 * turns a payload into messages and sends them (sender.ts).
 *
 * Delivery: a push resolves when the brokers acknowledged every message
 * (required_acks -1: all in-sync replicas). With acks -1 the producer is
 * idempotent, so kafkajs' own retries of a request never duplicate it. A
 * batch sent again by the helper (a retry after an unclear failure, a
 * persistent queue replaying after a crash) may be written twice; each
 * message carries a header naming its batch and index, by which the kafka
 * receiver recognises and skips the second copy.
 */
import type { Kafka, Producer } from 'kafkajs';
import { kafkajs } from '../../lib/kafka/kafkajs.ts';
import { metadataValues } from '../../core/client.ts';
import type { Host } from '../../core/component.ts';
import { PermanentError } from '../../core/errors.ts';
import type { PushContext, Pusher } from '../../core/exporter-helper.ts';
import type { AnyPayload, LogsPayload, TracesPayload } from '../../core/payload.ts';
import { TRACE_ID_FIELD } from '../../core/otlp/slice.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import { clientTls, createKafkaClient, type ClientOptions } from '../../lib/kafka/client.ts';
import { encodingFor, type KafkaExporterConfig } from './config.ts';
import { buildMessages, buildRawMessages, groupLogsByTrace, groupTracesByTrace, logsCodec, nameMessages, PartitionKeys, tracesCodec, type Built } from '../../lib/kafka/messages.ts';
import { PartitionCounts, hashPartitioner } from './partitions.ts';
import { headerBytes } from './headers.ts';
import { SIGNAL_HEADER, staticHeaders } from './collector-keys.ts';

/** The signal header alone, shared by every payload without client metadata (the sender only reads it). */
const SIGNAL_HEADERS = { logs: { [SIGNAL_HEADER]: ['logs'] }, traces: { [SIGNAL_HEADER]: ['traces'] } } as const satisfies Record<string, Record<string, string[]>>;
import { SendLoop } from './sender.ts';

export class KafkaExporter implements Pusher {
  private kafka: Kafka | undefined;
  private producer: Producer | undefined;
  private sender: SendLoop | undefined;
  private counts: PartitionCounts | undefined;
  /** The hash per partition count (topics normally share one). */
  private readonly hashes = new Map<number, (key: string) => number>();
  private connected = false;
  private connecting: { producer: Producer; done: Promise<void> } | undefined;
  /** required_acks -1: the producer is idempotent (kafkajs requires acks = all for it). */
  private readonly idempotent: boolean;
  private readonly logs;
  private readonly traces;
  private readonly rawLogs: boolean;
  private readonly rawTraces: boolean;

  /** max_message_bytes less what the static record_headers (and the signal header) take. */
  private readonly messageBudget: number;
  /** record_headers by name. */
  private readonly headers: Record<string, string | string[]>;

  constructor(
    private readonly cfg: KafkaExporterConfig,
    private readonly logger: Logger,
    /** Tests only: client options over the config's (a socket factory injecting faults, a shorter retry policy). */
    private readonly clientOverrides: Pick<ClientOptions, 'socketFactory' | 'retry'> = {},
  ) {
    this.idempotent = cfg.producer.required_acks === -1;
    this.headers = staticHeaders(cfg.record_headers);
    this.messageBudget = cfg.producer.max_message_bytes - headerBytes(this.headers) - (cfg.signal_header ? headerBytes({ [SIGNAL_HEADER]: 'traces' }) : 0);
    this.logs = logsCodec(encodingFor(cfg, 'logs'));
    this.traces = tracesCodec(encodingFor(cfg, 'traces'));
    this.rawLogs = encodingFor(cfg, 'logs') === 'otlp_proto';
    this.rawTraces = encodingFor(cfg, 'traces') === 'otlp_proto';
  }


  /** include_metadata_keys: batches joined by sending_queue.batch keep their values apart. */
  get metadataKeys(): readonly string[] {
    return this.cfg.include_metadata_keys;
  }

  async start(_host: Host): Promise<void> {
    const c = this.cfg;
    this.kafka = await createKafkaClient({
      brokers: c.brokers,
      client_id: c.client_id,
      tls: clientTls(c),
      sasl: c.auth.sasl,
      logger: this.logger,
      connectionTimeout: c.dial_timeout,
      ...this.clientOverrides,
    });
    this.producer = this.newProducer();
    const link = { ready: () => this.ready(), failed: () => this.renewProducer() };
    this.counts = new PartitionCounts(this.kafka, link.ready);
    this.sender = new SendLoop(link, {
      acks: c.producer.required_acks,
      compression: c.producer.compression,
      timeout: c.timeout > 0 ? c.timeout : 30_000,
      maxBytes: c.producer.max_message_bytes,
      headers: this.headers,
      linger: c.producer.linger,
      maxMessages: c.producer.flush_max_messages,
    });
    // Brokers may come up after us (compose, a restart): connecting is tried
    // on first send and again after each failure, never fatal at start.
    this.logger.info('kafka exporter ready', { brokers: c.brokers, logs_topic: c.logs.topic, traces_topic: c.traces.topic });
  }

  private newProducer(): Producer {
    const producer = this.kafka!.producer({
      idempotent: this.idempotent,
      maxInFlightRequests: 1,
      allowAutoTopicCreation: this.cfg.producer.allow_auto_topic_creation,
      metadataMaxAge: this.cfg.metadata.refresh_interval,
      createPartitioner: kafkajs().Partitioners.DefaultPartitioner,
      // Bounded, so a broker outage surfaces to the helper's backoff and
      // queue instead of hanging a send forever.
      retry: this.clientOverrides.retry ?? { retries: 5, initialRetryTime: 300, maxRetryTime: 5_000 },
    });
    producer.on(producer.events.DISCONNECT, () => {
      if (producer === this.producer) this.connected = false;
    });
    return producer;
  }

  /** The current producer, connected. */
  private async ready(): Promise<Producer> {
    for (;;) {
      const producer = this.producer!;
      if (this.connected) return producer;
      if (this.connecting?.producer !== producer) {
        const connecting = {
          producer,
          done: producer.connect().then(
            () => {
              if (producer === this.producer) this.connected = true;
            },
            (err: unknown) => {
              if (this.connecting === connecting) this.connecting = undefined;
              throw err;
            },
          ),
        };
        this.connecting = connecting;
      }
      await this.connecting!.done;
      if (producer === this.producer) return producer;
    }
  }

  /**
   * After a failed send, an idempotent producer's sequence numbers are no
   * longer trustworthy: kafkajs takes a request's numbers back when it fails,
   * even if the broker wrote it and only the answer was lost (a broker
   * stopping, a timeout). The next request, with other records, would then
   * reuse those numbers and the broker would take it for a duplicate of the
   * written one and drop it while answering success, or refuse it as out of
   * order for good. A new producer gets a new producer id from the broker, so
   * its numbering starts afresh; a batch the helper sends again may then be
   * written twice, which the receiver's message ids take care of.
   */
  private renewProducer(): void {
    if (!this.idempotent) return;
    const old = this.producer!;
    this.producer = this.newProducer();
    this.connected = false;
    void old.disconnect().catch(() => undefined);
  }

  async pushLogs(data: LogsPayload, ctx: PushContext): Promise<void> {
    const c = this.cfg;
    const keys = c.partition_logs_by_trace_id ? await this.partitionKeys(c.logs.topic) : null;
    const raw = this.rawLogs ? data.bytes() : undefined;
    const built = raw
      ? buildRawMessages(raw, TRACE_ID_FIELD.logs, keys !== null, this.messageBudget, keys)
      : buildMessages(this.logs, data.records(), keys ? groupLogsByTrace : null, this.messageBudget, keys);
    await this.send(c.logs.topic, built, keys, 'log records', ctx, this.metadataHeaders(data, 'logs'));
  }

  async pushTraces(data: TracesPayload, ctx: PushContext): Promise<void> {
    const c = this.cfg;
    const keys = c.partition_traces_by_id ? await this.partitionKeys(c.traces.topic) : null;
    const raw = this.rawTraces ? data.bytes() : undefined;
    const built = raw
      ? buildRawMessages(raw, TRACE_ID_FIELD.traces, keys !== null, this.messageBudget, keys)
      : buildMessages(this.traces, data.records(), keys ? groupTracesByTrace : null, this.messageBudget, keys);
    await this.send(c.traces.topic, built, keys, 'spans', ctx, this.metadataHeaders(data, 'traces'));
  }

  /**
   * The payload's client metadata named by include_metadata_keys, and the
   * signal header (signal_header), as message headers (null when none).
   */
  private metadataHeaders(data: AnyPayload, signal: 'logs' | 'traces'): Record<string, string[]> | null {
    const keys = this.cfg.include_metadata_keys;
    if (keys.length === 0) return this.cfg.signal_header ? SIGNAL_HEADERS[signal] : null;
    let out: Record<string, string[]> | null = this.cfg.signal_header ? { [SIGNAL_HEADER]: [signal] } : null;
    const info = data.client;
    for (const k of keys) {
      const v = metadataValues(info, k);
      if (v.length) (out ??= {})[k] = [...v];
    }
    return out;
  }

  /** Grouping of one batch by the topic's current partition count. */
  private async partitionKeys(topic: string): Promise<PartitionKeys> {
    const n = await this.counts!.count(topic);
    let hash = this.hashes.get(n);
    if (!hash) this.hashes.set(n, (hash = hashPartitioner(n, this.cfg.record_partitioner.sticky_key.hasher)));
    return new PartitionKeys(n, hash);
  }

  private async send(topic: string, built: Built, keys: PartitionKeys | null, noun: string, ctx: PushContext, extra: Record<string, string[]> | null): Promise<void> {
    if (ctx.signal.aborted) throw ctx.signal.reason ?? new Error('export aborted');
    if (built.messages.length > 0) {
      nameMessages(built.messages, ctx.dedupToken, keys ? keys.count : null);
      try {
        await this.sender!.send(topic, built.messages, extra);
      } catch (err) {
        // The topic may have grown or been re-created: group the retry by fresh metadata.
        this.counts!.forget(topic);
        throw err;
      }
    }
    if (built.tooLarge > 0) {
      throw new PermanentError(
        `${built.tooLarge} ${noun} dropped: a single one encodes to ${built.largestBytes} bytes, over producer.max_message_bytes ` +
          `(${this.cfg.producer.max_message_bytes}); the rest of the batch was sent`,
      );
    }
  }

  async shutdown(): Promise<void> {
    await this.sender?.drained();
    await this.counts?.close();
    await this.producer?.disconnect().catch(() => undefined);
  }
}
