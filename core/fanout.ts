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

/** A copy keeps the payload's dedup token: every branch must insert it under the same one. */
function copyLogs(data: LogsData): LogsData {
  const c = cloneLogs(data);
  const token = (data as WithDedupToken).dedupToken;
  return token === undefined ? c : Object.assign(c, { dedupToken: token });
}

function copyTraces(data: TracesData): TracesData {
  const c = cloneTraces(data);
  const token = (data as WithDedupToken).dedupToken;
  return token === undefined ? c : Object.assign(c, { dedupToken: token });
}

async function settleAll(promises: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(promises);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason;
}

export function fanoutLogs(consumers: LogsConsumer[]): LogsConsumer {
  if (consumers.length === 1) return consumers[0]!;
  return {
    consumeLogs(data: LogsData) {
      const last = consumers.length - 1;
      return settleAll(consumers.map((c, i) => c.consumeLogs(i === last ? data : copyLogs(data))));
    },
  };
}

export function fanoutTraces(consumers: TracesConsumer[]): TracesConsumer {
  if (consumers.length === 1) return consumers[0]!;
  return {
    consumeTraces(data: TracesData) {
      const last = consumers.length - 1;
      return settleAll(consumers.map((c, i) => c.consumeTraces(i === last ? data : copyTraces(data))));
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
