/**
 * One producer, one send at a time, concurrent pushes coalesced.
 *
 * kafkajs' idempotent producer numbers each partition's batches when it
 * builds a request and advances the number when the answer arrives, so two
 * concurrent sends to one partition reuse a sequence number, which the broker
 * takes for a duplicate and silently skips. Sends are therefore serialised
 * here; to keep throughput, whatever the queue consumers pushed meanwhile
 * goes out together in the next request, up to max_message_bytes in total so
 * no partition's record batch can exceed the broker's limit. After a failed
 * request the exporter renews the producer (ProducerLink.failed), since the
 * numbers kafkajs took back may belong to a batch the broker did write.
 */
import type { Producer, TopicMessages } from 'kafkajs';
import { COMPRESSION_TYPES, type Compression } from '../../lib/kafka/codecs.ts';
import { PermanentError } from '../../core/errors.ts';
import { MESSAGE_ID_HEADER, type OutMessage } from '../../lib/kafka/messages.ts';
import { headerBytes } from './headers.ts';

interface Part {
  topic: string;
  messages: OutMessage[];
  /** Headers of this payload's messages (include_metadata_keys), or null. */
  extra: Record<string, string[]> | null;
  bytes: number;
  resolve(): void;
  reject(err: unknown): void;
}

export interface SendOptions {
  acks: number;
  compression: Compression;
  /** Broker-side acknowledgement timeout, ms. */
  timeout: number;
  maxBytes: number;
  /** Static headers on every message (record_headers); a name may carry several values. */
  headers: Record<string, string | string[]>;
  /** Wait this long (ms) after the first batch for others to join its request (producer.linger). */
  linger: number;
  /** Most messages per request (producer.flush_max_messages); a batch is never split for it. */
  maxMessages: number;
}

const PERMANENT_TYPES = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_RECORD',
  'TOPIC_AUTHORIZATION_FAILED',
  'INVALID_TOPIC_EXCEPTION',
  'CLUSTER_AUTHORIZATION_FAILED',
]);

/** A broker answer that retrying cannot change becomes a PermanentError. */
export function classify(err: unknown): unknown {
  for (let e: unknown = err, depth = 0; e && depth < 5; depth++) {
    const type = (e as { type?: unknown }).type;
    if (typeof type === 'string' && PERMANENT_TYPES.has(type)) {
      return new PermanentError(`kafka broker refused the messages: ${type} (${(e as Error).message})`, { cause: err });
    }
    e = (e as { originalError?: unknown; cause?: unknown }).originalError ?? (e as { cause?: unknown }).cause;
  }
  return err;
}

const sizeOf = (m: OutMessage) => m.value.length + (m.key ? m.key.length : 0) + (m.id ? m.id.length + MESSAGE_ID_HEADER.length : 0) + 64;

/** The exporter's producer as the send loop sees it. */
export interface ProducerLink {
  /** The current producer, connected. */
  ready(): Promise<Producer>;
  /** A send failed: its outcome at the broker is unknown. */
  failed(err: unknown): void;
}

export class SendLoop {
  private readonly parts: Part[] = [];
  private running = false;
  private idle: Promise<void> = Promise.resolve();

  private readonly hasHeaders: boolean;
  /** Bytes the static headers add to each message. */
  private readonly headerBytes: number;

  constructor(
    private readonly link: ProducerLink,
    private readonly opts: SendOptions,
  ) {
    this.hasHeaders = Object.keys(opts.headers).length > 0;
    this.headerBytes = headerBytes(opts.headers);
  }

  /** Sends `messages` to `topic` (each with the `extra` headers too); resolves when all are acknowledged. */
  send(topic: string, messages: OutMessage[], extra: Record<string, string[]> | null = null): Promise<void> {
    const waits: Promise<void>[] = [];
    let cur: OutMessage[] = [];
    let bytes = 0;
    const extraBytes = extra ? headerBytes(extra) : 0;
    const cut = () => {
      const part = { topic, messages: cur, extra, bytes };
      waits.push(new Promise<void>((resolve, reject) => this.parts.push({ ...part, resolve, reject })));
      cur = [];
      bytes = 0;
    };
    for (const m of messages) {
      const b = sizeOf(m) + this.headerBytes + extraBytes;
      if (cur.length > 0 && bytes + b > this.opts.maxBytes) cut();
      cur.push(m);
      bytes += b;
    }
    if (cur.length > 0) cut();
    this.kick();
    return Promise.all(waits).then(() => undefined);
  }

  /** Resolves once nothing is being sent. */
  drained(): Promise<void> {
    return this.idle;
  }

  private kick(): void {
    if (this.running) return;
    this.running = true;
    const started = this.opts.linger > 0 ? new Promise<void>((r) => setTimeout(r, this.opts.linger)).then(() => this.loop()) : this.loop();
    this.idle = started.finally(() => {
      this.running = false;
    });
  }

  private async loop(): Promise<void> {
    while (this.parts.length > 0) {
      const batch: Part[] = [this.parts.shift()!];
      let total = batch[0]!.bytes;
      let count = batch[0]!.messages.length;
      while (this.parts.length > 0 && total + this.parts[0]!.bytes <= this.opts.maxBytes && count + this.parts[0]!.messages.length <= this.opts.maxMessages) {
        const p = this.parts.shift()!;
        total += p.bytes;
        count += p.messages.length;
        batch.push(p);
      }
      const byTopic = new Map<string, TopicMessages>();
      for (const p of batch) {
        let tm = byTopic.get(p.topic);
        if (!tm) byTopic.set(p.topic, (tm = { topic: p.topic, messages: [] }));
        const base = p.extra ? { ...this.opts.headers, ...p.extra } : this.opts.headers;
        const hasBase = p.extra !== null || this.hasHeaders;
        for (const m of p.messages) {
          const headers = m.id ? { ...base, [MESSAGE_ID_HEADER]: m.id } : hasBase ? base : undefined;
          tm.messages.push({ key: m.key, value: m.value, partition: m.partition, headers });
        }
      }
      try {
        const producer = await this.link.ready();
        try {
          await producer.sendBatch({
            topicMessages: [...byTopic.values()],
            acks: this.opts.acks,
            timeout: this.opts.timeout,
            compression: COMPRESSION_TYPES[this.opts.compression],
          });
        } catch (err) {
          this.link.failed(err);
          throw err;
        }
        for (const p of batch) p.resolve();
      } catch (err) {
        const e = classify(err);
        for (const p of batch) p.reject(e);
      }
    }
  }
}
