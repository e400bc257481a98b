/**
 * Deterministic batches ("chunks") over a partition's offsets, so a batch
 * redelivered after a crash or rebalance is the same batch with the same
 * deduplication token, and ClickHouse drops the repeat insert.
 *
 * kafkajs' fetch boundaries differ from run to run, so a chunk is not "what
 * one fetch returned". Instead, before a chunk is handed to the pipeline, its
 * offset range is committed as the metadata of the group's offset for that
 * partition (offset = chunk start, metadata = `trailhouse/v1 <start>-<end>`).
 * After success, the offset moves past the chunk (with the next chunk's plan,
 * or empty metadata). Whoever next owns the partition — this process after a
 * pause, a restart after kill -9, another member after a rebalance — starts
 * at the committed offset, finds the plan there and re-forms exactly that
 * chunk before choosing new boundaries. At most one chunk per partition is in
 * flight, so only the planned one can have been inserted without its commit.
 *
 * The token names topic, partition, offset range and the first record's
 * Kafka timestamp (so a topic deleted and re-created, offsets restarting at
 * 0, does not collide with old tokens still in ClickHouse's window).
 */
import type { LogsData, TracesData } from '../../core/model.ts';

/** One fetched message, decoded once. */
export interface Item {
  offset: bigint;
  /** Kafka record timestamp (ms, as kafkajs gives it). */
  timestamp: string;
  /** null: a message that could not be decoded (skipped, counted). */
  data: LogsData | TracesData | null;
  count: number;
}

export interface Plan {
  start: bigint;
  end: bigint;
}

const PREFIX = 'trailhouse/v1 ';

export function planMetadata(p: Plan): string {
  return `${PREFIX}${p.start}-${p.end}`;
}

/** The plan recorded with a committed offset, if it starts there. */
export function parsePlan(metadata: string | null | undefined, committedOffset: string): Plan | null {
  if (!metadata?.startsWith(PREFIX)) return null;
  const m = /^(\d+)-(\d+)$/.exec(metadata.slice(PREFIX.length));
  if (!m) return null;
  const plan = { start: BigInt(m[1]!), end: BigInt(m[2]!) };
  if (!/^\d+$/.test(committedOffset) || BigInt(committedOffset) !== plan.start || plan.end < plan.start) return null;
  return plan;
}

export function chunkToken(topic: string, partition: number, plan: Plan, firstTimestamp: string): string {
  return `kafka:${topic}:${partition}:${plan.start}-${plan.end}:${firstTimestamp}`;
}

export type Next =
  /** items[from, to) form the chunk `plan`; `planned` = it came from a recorded plan. */
  | { kind: 'chunk'; to: number; plan: Plan; planned: boolean }
  /** The recorded plan reaches past the fetched items: fetch more first. */
  | { kind: 'incomplete' };

/**
 * The next chunk starting at items[from]. A recorded plan covering that
 * offset wins; otherwise records are gathered up to `maxRecords` (a single
 * larger message is a chunk of its own).
 */
export function nextChunk(items: readonly Item[], from: number, plan: Plan | null, maxRecords: number): Next {
  const first = items[from]!;
  if (plan && plan.end >= first.offset) {
    let to = from;
    while (to < items.length && items[to]!.offset <= plan.end) to++;
    if (to === items.length && items[to - 1]!.offset < plan.end) return { kind: 'incomplete' };
    return { kind: 'chunk', to, plan, planned: true };
  }
  let to = from;
  let records = 0;
  while (to < items.length) {
    const n = items[to]!.count;
    if (to > from && records + n > maxRecords) break;
    records += n;
    to++;
    if (records >= maxRecords) break;
  }
  return { kind: 'chunk', to, plan: { start: first.offset, end: items[to - 1]!.offset }, planned: false };
}

/** Concatenates the decoded requests of a chunk into one payload (records stay whole). */
export function mergeLogs(items: readonly Item[]): LogsData {
  return { resourceLogs: items.flatMap((i) => (i.data ? (i.data as LogsData).resourceLogs : [])) };
}

export function mergeTraces(items: readonly Item[]): TracesData {
  return { resourceSpans: items.flatMap((i) => (i.data ? (i.data as TracesData).resourceSpans : [])) };
}
