/**
 * Fan-out and forwarding consumers used to wire the pipeline graph.
 *
 * A receiver named by several pipelines feeds each; a pipeline feeds all its
 * exporters. Every branch but the last gets its own deep copy, because
 * processors may change records in place (redaction, enrichment) and one
 * pipeline's change must not leak into another. The call settles when every
 * branch accepted; the first failure is what travels back.
 */
import type { LogsConsumer, TracesConsumer } from './component.ts';
import type { WithDedupToken } from './exporter-helper.ts';
import { cloneLogs, cloneTraces, type LogsData, type TracesData } from './model.ts';

/**
 * The payload for branch `i`, with a dedup token of its own derived from the
 * payload's (`<token>>i`): the same on every redelivery, so each branch still
 * recognises a repeat, but never shared between branches, which may write the
 * same table (two pipelines into one ClickHouse exporter) where one shared
 * token would make the second insert look like a repeat of the first.
 */
function branch<D extends LogsData | TracesData>(data: D, i: number, last: number, clone: (d: D) => D): D {
  const token = (data as WithDedupToken).dedupToken;
  const d = i === last ? data : clone(data);
  if (token !== undefined) (d as WithDedupToken).dedupToken = `${token}>${i}`;
  return d;
}

/** Waits for every promise; the first failure, if any, is what it throws. */
export async function settleAll(promises: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

export function fanoutLogs(consumers: LogsConsumer[]): LogsConsumer {
  if (consumers.length === 1) return consumers[0]!;
  return {
    consumeLogs(data: LogsData) {
      const last = consumers.length - 1;
      // Copies first: the last branch takes the original, token and all.
      const parts = consumers.map((_, i) => (i === last ? data : branch(data, i, last, cloneLogs)));
      parts[last] = branch(data, last, last, cloneLogs);
      return settleAll(consumers.map((c, i) => c.consumeLogs(parts[i]!)));
    },
  };
}

export function fanoutTraces(consumers: TracesConsumer[]): TracesConsumer {
  if (consumers.length === 1) return consumers[0]!;
  return {
    consumeTraces(data: TracesData) {
      const last = consumers.length - 1;
      const parts = consumers.map((_, i) => (i === last ? data : branch(data, i, last, cloneTraces)));
      parts[last] = branch(data, last, last, cloneTraces);
      return settleAll(consumers.map((c, i) => c.consumeTraces(parts[i]!)));
    },
  };
}

/** A consumer whose target is set after construction (wiring shared processors). */
export class ForwardLogs implements LogsConsumer {
  target: LogsConsumer | undefined;
  consumeLogs(data: LogsData): Promise<void> {
    if (!this.target) return Promise.reject(new Error('pipeline wiring incomplete: no logs consumer'));
    return this.target.consumeLogs(data);
  }
}

export class ForwardTraces implements TracesConsumer {
  target: TracesConsumer | undefined;
  consumeTraces(data: TracesData): Promise<void> {
    if (!this.target) return Promise.reject(new Error('pipeline wiring incomplete: no traces consumer'));
    return this.target.consumeTraces(data);
  }
}
