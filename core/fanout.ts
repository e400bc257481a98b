/**
 * Fan-out and forwarding consumers used to wire the pipeline graph.
 *
 * A receiver named by several pipelines feeds each; a pipeline feeds all its
 * exporters. Every branch but the last gets its own copy (core/payload.ts
 * copy: bytes shared, records deep-copied), because processors may change
 * records in place (redaction, enrichment) and one pipeline's change must not
 * leak into another. The call settles when every branch accepted; the first
 * failure is what travels back.
 */
import type { LogsConsumer, TracesConsumer } from './component.ts';
import type { Signal } from './model.ts';
import type { LogsPayload, Payload, TracesPayload } from './payload.ts';

/**
 * The payloads for the branches, each with a dedup token of its own derived
 * from the payload's (`<token>>i`): the same on every redelivery, so each
 * branch still recognises a repeat, but never shared between branches, which
 * may write the same table (two pipelines into one ClickHouse exporter) where
 * one shared token would make the second insert look like a repeat of the
 * first. Copies first: the last branch takes the original.
 */
function branches<S extends Signal>(p: Payload<S>, n: number): Payload<S>[] {
  const token = p.dedupToken;
  const last = n - 1;
  const out: Payload<S>[] = [];
  for (let i = 0; i < last; i++) out.push(p.copy());
  out.push(p);
  if (token !== undefined) for (let i = 0; i < n; i++) out[i]!.dedupToken = `${token}>${i}`;
  return out;
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
    consumeLogs(p: LogsPayload) {
      const parts = branches(p, consumers.length);
      return settleAll(consumers.map((c, i) => c.consumeLogs(parts[i]!)));
    },
  };
}

export function fanoutTraces(consumers: TracesConsumer[]): TracesConsumer {
  if (consumers.length === 1) return consumers[0]!;
  return {
    consumeTraces(p: TracesPayload) {
      const parts = branches(p, consumers.length);
      return settleAll(consumers.map((c, i) => c.consumeTraces(parts[i]!)));
    },
  };
}

/** A consumer whose target is set after construction (wiring shared processors). */
export class ForwardLogs implements LogsConsumer {
  target: LogsConsumer | undefined;
  consumeLogs(p: LogsPayload): Promise<void> {
    if (!this.target) return Promise.reject(new Error('pipeline wiring incomplete: no logs consumer'));
    return this.target.consumeLogs(p);
  }
}

export class ForwardTraces implements TracesConsumer {
  target: TracesConsumer | undefined;
  consumeTraces(p: TracesPayload): Promise<void> {
    if (!this.target) return Promise.reject(new Error('pipeline wiring incomplete: no traces consumer'));
    return this.target.consumeTraces(p);
  }
}
