/**
 * Receiver-side bookkeeping shared by every receiver: counts accepted and
 * refused items per transport (the Collector's receiverhelper metrics) and
 * hands the data to the pipeline. Errors are rethrown untouched so the
 * receiver can map them with `statusFor` (core/errors.ts).
 */
import type { CreateSettings, NextConsumers } from './component.ts';
import { PermanentError, TooManyRecordsError } from './errors.ts';
import type { LogsPayload, TracesPayload } from './payload.ts';
import { receiverAckLatency, receiverMetrics } from './telemetry/metrics.ts';

export interface ObsConsumer {
  logs(p: LogsPayload): Promise<void>;
  traces(p: TracesPayload): Promise<void>;
  /** Per signal: nothing downstream reads records (NextConsumers.bytesOnly). */
  readonly bytesOnly: Readonly<Record<'logs' | 'traces', boolean>>;
}

/**
 * Wraps `next` for one transport (`grpc`, `http`, `udp`, `kafka`, …). A request
 * of more than `maxRecords` records (0 = no limit) is refused whole with
 * TooManyRecordsError (HTTP 413 / gRPC INVALID_ARGUMENT) and counted refused.
 */
export function observedConsumer(settings: CreateSettings<unknown>, next: NextConsumers, transport: string, maxRecords = 0): ObsConsumer {
  const m = receiverMetrics(settings.metrics, settings.id, transport);
  const ack = receiverAckLatency(settings.metrics, settings.id, transport);
  const tooMany = (n: number, what: string) =>
    new TooManyRecordsError(`request of ${n} ${what} exceeds max_records_per_request ${maxRecords}: split it into smaller requests`);
  return {
    bytesOnly: { logs: next.bytesOnly?.logs === true, traces: next.bytesOnly?.traces === true },
    async logs(p) {
      const n = p.count;
      if (!next.logs) throw new PermanentError(`receiver ${settings.id} is not in any logs pipeline`);
      if (n === 0) return;
      if (maxRecords > 0 && n > maxRecords) {
        m.logs.refused.add(n);
        throw tooMany(n, 'log records');
      }
      const t0 = performance.now();
      try {
        await next.logs.consumeLogs(p);
        m.logs.accepted.add(n);
      } catch (err) {
        m.logs.refused.add(n);
        throw err;
      } finally {
        ack.record((performance.now() - t0) / 1000);
      }
    },
    async traces(p) {
      const n = p.count;
      if (!next.traces) throw new PermanentError(`receiver ${settings.id} is not in any traces pipeline`);
      if (n === 0) return;
      if (maxRecords > 0 && n > maxRecords) {
        m.traces.refused.add(n);
        throw tooMany(n, 'spans');
      }
      const t0 = performance.now();
      try {
        await next.traces.consumeTraces(p);
        m.traces.accepted.add(n);
      } catch (err) {
        m.traces.refused.add(n);
        throw err;
      } finally {
        ack.record((performance.now() - t0) / 1000);
      }
    },
  };
}
