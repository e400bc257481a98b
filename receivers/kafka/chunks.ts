/**
 * Deterministic batches ("chunks") over a partition's offsets, so a batch
 * redelivered after a crash or rebalance is the same batch with the same
 * deduplication token, and ClickHouse drops the repeat insert.
 *
 * kafkajs' fetch boundaries differ from run to run, so a chunk is not "what
 * one fetch returned". Instead, before chunks are handed to the pipeline,
 * their offset ranges are committed as the metadata of the group's offset
 * for the partition: the offset is the first chunk not yet done, the
 * metadata lists every chunk from there on, done ones marked `+`:
 *
 *   offset 1200, metadata "trailhouse/v1 1200-1399,1400-1655+,1656-1800"
 *
 * Whoever next owns the partition — this process after a restart, another
 * ingester after a rebalance — starts at the committed offset, re-forms
 * exactly the listed chunks (skipping the done ones) and only then chooses
 * new boundaries.
 *
 * The token names topic, partition, offset range and the first record's
 * Kafka timestamp (so a topic deleted and re-created, offsets restarting at
 * 0, does not collide with old tokens still in ClickHouse's window).
 */
import type { Signal } from '../../core/model.ts';
import type { AnyPayload, Payload } from '../../core/payload.ts';
import { concatPayloads } from '../../core/split.ts';

/** One fetched message, decoded once. */
export interface Item {
  offset: bigint;
  /** Kafka record timestamp (ms, as kafkajs gives it). */
  timestamp: string;
  /** null: a message that could not be decoded (skipped, counted). */
  data: AnyPayload | null;
  count: number;
  /** The `trailhouse-id` header: the producing batch's token and index. */
  id?: string;
  /** A second copy of a message seen shortly before in the partition (skipped). */
  dup?: boolean;
}

export interface Range {
  start: bigint;
  end: bigint;
  done: boolean;
}

const PREFIX = 'trailhouse/v1 ';

export function planMetadata(ranges: readonly Range[]): string {
  return ranges.length === 0 ? '' : PREFIX + ranges.map((r) => `${r.start}-${r.end}${r.done ? '+' : ''}`).join(',');
}

/**
 * The chunks recorded with a committed offset: ascending, non-overlapping,
 * the first starting at the offset. Anything else (another tool's metadata,
 * a stale plan) yields [] and the partition is chunked afresh.
 */
export function parsePlan(metadata: string | null | undefined, committedOffset: string): Range[] {
  if (!metadata?.startsWith(PREFIX) || !/^\d+$/.test(committedOffset)) return [];
  const out: Range[] = [];
  for (const part of metadata.slice(PREFIX.length).split(',')) {
    const m = /^(\d+)-(\d+)(\+?)$/.exec(part);
    if (!m) return [];
    const r = { start: BigInt(m[1]!), end: BigInt(m[2]!), done: m[3] === '+' };
    const prev = out[out.length - 1];
    if (r.end < r.start || (prev && r.start <= prev.end)) return [];
    out.push(r);
  }
  if (out.length === 0 || out[0]!.start !== BigInt(committedOffset)) return [];
  return out;
}

export function chunkToken(topic: string, partition: number, r: { start: bigint; end: bigint }, firstTimestamp: string): string {
  return `kafka:${topic}:${partition}:${r.start}-${r.end}:${firstTimestamp}`;
}

/**
 * Where a new chunk starting at items[from] ends (exclusive): records are
 * gathered up to `maxRecords`; a single larger message is a chunk of its own.
 */
export function formChunk(items: readonly Item[], from: number, maxRecords: number): number {
  let to = from;
  let records = 0;
  while (to < items.length) {
    const it = items[to]!;
    const n = it.dup ? 0 : it.count;
    if (to > from && records + n > maxRecords) break;
    records += n;
    to++;
    if (records >= maxRecords) break;
  }
  return to;
}

/**
 * Concatenates the requests of a chunk into one payload (records stay
 * whole). Requests not decoded yet stay so: the payload is their bytes
 * (core/split.ts concatPayloads).
 */
export function mergePayloads<S extends Signal>(signal: S, items: readonly Item[]): Payload<S> {
  const good: Payload<S>[] = [];
  let count = 0;
  for (const i of items) {
    if (!i.data || i.dup) continue;
    good.push(i.data as Payload<S>);
    count += i.data.count;
  }
  return concatPayloads(signal, good, count, undefined);
}

/** Whether a chunk holds anything to hand to the pipeline. */
export function hasPayload(items: readonly Item[]): boolean {
  return items.some((i) => i.data !== null && !i.dup);
}

/**
 * Duplicate detection by message id over the last `size` messages of a
 * partition, in offset order. Deterministic given the partition's content:
 * a message is a duplicate iff the same id occurs at one of the `size`
 * offsets before it, whichever process looks (a restarted ingester reads the
 * `size` messages before its committed offset first to know them).
 */
export class RecentIds {
  private readonly ring: Array<{ id: string; offset: bigint } | undefined>;
  private head = 0;
  /** id → offsets of its copies in the window. */
  private readonly at = new Map<string, bigint[]>();
  /** offset → the answer given for it, while it is in the window. */
  private readonly decided = new Map<bigint, boolean>();
  /** Highest offset noted. */
  upTo = -1n;

  constructor(readonly size: number) {
    this.ring = new Array(size);
  }

  /** Sets `it.dup`; returns true when `it` is newly found to be a duplicate. */
  note(it: Item): boolean {
    if (it.offset <= this.upTo) {
      // Fetched again (after a pause): the same answer as the first time.
      it.dup = this.decided.get(it.offset) ?? false;
      return false;
    }
    this.upTo = it.offset;
    if (it.id === undefined || this.size === 0) return false;
    let offs = this.at.get(it.id);
    it.dup = !!offs;
    if (!offs) this.at.set(it.id, (offs = []));
    offs.push(it.offset);
    const old = this.ring[this.head];
    if (old) {
      const o = this.at.get(old.id)!;
      o.splice(o.indexOf(old.offset), 1);
      if (o.length === 0) this.at.delete(old.id);
      this.decided.delete(old.offset);
    }
    this.decided.set(it.offset, it.dup);
    this.ring[this.head] = { id: it.id, offset: it.offset };
    this.head = (this.head + 1) % this.size;
    return it.dup;
  }
}
