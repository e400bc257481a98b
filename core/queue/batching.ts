/**
 * `sending_queue.batch`: batches joined after the queue, before the push,
 * so one push (one INSERT, one Kafka produce) carries many of them while a
 * sender is still answered as soon as its own batch is queued.
 *
 * Each batch is assigned to a group when it is offered, and the group's
 * deduplication token is stored with it in place of its own. The group is
 * what the consumers push: all its members at once, under that token. So the
 * members of a group are decided before any of them can be pushed, and a
 * persistent queue replaying after a crash re-forms exactly the groups it
 * stored (members share a token starting with `batch:`; see
 * extensions/file_storage/file-queue.ts): a group pushed before the crash
 * is pushed again whole, with the same token, and the store drops the copy.
 *
 * A group closes when it holds `min_size` items, when the next batch would
 * take it past `max_size` (0 = no limit; a batch is never split), after
 * `flush_timeout` from its first batch, or when the queue closes. It is
 * handed on once closed and every batch offered to it is either taken from
 * the queue or was refused by it.
 *
 * Client info: as with the `batch` processor's `metadata_keys`, batches join
 * regardless of who sent them (every request has its own client info; with
 * no batch processor in front, keeping senders apart would leave one request
 * per group), except by the metadata keys named in `partition.metadata_keys`
 * and those the exporter reads (`Pusher.metadataKeys`, e.g. the kafka
 * exporter's include_metadata_keys):
 * batches differing in those go to different groups, and a group carries on
 * those keys only.
 *
 * The price, as for the `batch` processor: the tokens batches came with
 * (Kafka offsets) are replaced, so a redelivery from upstream is no longer
 * recognised downstream. The spool exporter's queue is where this pays:
 * batches arrive there already acknowledged to their senders.
 */
import { randomUUID } from 'node:crypto';
import { metadataValues, type ClientInfo } from '../client.ts';
import type { Signal } from '../model.ts';
import { concatPayloads } from '../split.ts';
import type { QueueItem } from './memory-queue.ts';

export interface QueueBatchConfig {
  /** Close a group this long after its first batch (ms). */
  flush_timeout: number;
  /** Close a group once it holds this many items. */
  min_size: number;
  /** A group never grows past this many items by adding a batch; 0 = no limit. */
  max_size: number;
  /** Only `items` (spans, log records). */
  sizer: 'items';
  /** Client metadata keys whose values keep batches in different groups (the Collector's `partition.metadata_keys`). */
  partition?: { metadata_keys: string[] };
}

export const queueBatchDefaults = (): QueueBatchConfig => ({ flush_timeout: 200, min_size: 8192, max_size: 0, sizer: 'items' });

/** Tokens of group members start with this (a persistent queue regroups them on replay). */
export const GROUP_TOKEN_PREFIX = 'batch:';

interface Group {
  readonly token: string;
  /** Its key in `open` (signal, metadata-key values). */
  readonly key: string;
  readonly signal: Signal;
  readonly client: ClientInfo | undefined;
  /** Items of the batches assigned. */
  count: number;
  /** Batches assigned. */
  members: number;
  /** Assigned batches the queue refused (they will never be taken). */
  refused: number;
  taken: QueueItem[];
  closed: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** A pushed group: its members, to acknowledge one by one. */
export interface GroupItem extends QueueItem {
  members?: QueueItem[];
}

export class QueueBatcher {
  /** The group taking new batches, per signal and metadata-key values. */
  private readonly open = new Map<string, Group>();
  /** Groups not handed on yet, by token. */
  private readonly live = new Map<string, Group>();
  private readonly keys: string[];

  constructor(
    private readonly cfg: QueueBatchConfig,
    /** Receives each complete group as one item. */
    private readonly ready: (item: GroupItem) => void,
    /** Client metadata keys the exporter reads: groups keep their values apart. */
    metadataKeys: readonly string[] = [],
  ) {
    this.keys = [...new Set([...(cfg.partition?.metadata_keys ?? []), ...metadataKeys].map((k) => k.toLowerCase()))];
  }

  /** The open-group key of a batch, and the client info its group carries on. */
  private partition(item: QueueItem): { key: string; client: ClientInfo | undefined } {
    if (this.keys.length === 0) return { key: item.signal, client: undefined };
    const info = item.data.client;
    const metadata = new Map<string, string[]>();
    for (const k of this.keys) {
      const v = metadataValues(info, k);
      if (v.length) metadata.set(k, [...v]);
    }
    return { key: `${item.signal}\0${JSON.stringify(this.keys.map((k) => metadata.get(k) ?? []))}`, client: { address: '', metadata } };
  }

  /** Assigns a batch about to be offered to a group (its token becomes the group's). */
  assign(item: QueueItem): Group {
    const { key, client } = this.partition(item);
    let g = this.open.get(key);
    if (g && this.cfg.max_size > 0 && g.count + item.count > this.cfg.max_size) {
      this.close(g);
      g = undefined;
    }
    if (!g) {
      const created: Group = { token: GROUP_TOKEN_PREFIX + randomUUID(), key, signal: item.signal, client, count: 0, members: 0, refused: 0, taken: [], closed: false, timer: undefined };
      created.timer = setTimeout(() => this.close(created), this.cfg.flush_timeout);
      this.open.set(key, created);
      this.live.set(created.token, created);
      g = created;
    }
    g.count += item.count;
    g.members++;
    item.dedupToken = g.token;
    if (g.count >= this.cfg.min_size) this.close(g);
    return g;
  }

  /** The queue refused a batch assigned to `g`. */
  refused(g: Group): void {
    g.refused++;
    this.check(g);
  }

  /**
   * A batch taken from the queue. Returns false when it belongs to no group
   * of this process (replayed from disk: the queue hands those on whole).
   */
  taken(item: QueueItem): boolean {
    const g = this.live.get(item.dedupToken);
    if (!g || g.signal !== item.signal) return false;
    g.taken.push(item);
    this.check(g);
    return true;
  }

  /** Closes every group (the queue is closing). */
  closeAll(): void {
    for (const g of [...this.live.values()]) this.close(g);
  }

  /** Groups not handed on yet (tests). */
  get pending(): number {
    return this.live.size;
  }

  private close(g: Group): void {
    if (g.closed) return;
    g.closed = true;
    clearTimeout(g.timer);
    g.timer = undefined;
    if (this.open.get(g.key) === g) this.open.delete(g.key);
    this.check(g);
  }

  private check(g: Group): void {
    if (!g.closed || g.taken.length + g.refused < g.members) return;
    this.live.delete(g.token);
    if (g.taken.length === 0) return;
    this.ready(joinGroup(g.signal, g.token, g.taken, g.client));
  }
}

/** The members of a group as one item (members kept for acknowledging). */
export function joinGroup(signal: Signal, token: string, members: QueueItem[], client: ClientInfo | undefined): GroupItem {
  if (members.length === 1) return { ...members[0]!, members };
  let count = 0;
  for (const m of members) count += m.count;
  const data = concatPayloads(signal, members.map((m) => m.data), count, client);
  return { signal, data, count, dedupToken: token, members };
}
