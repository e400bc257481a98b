/**
 * One target's delivery: a persistent queue of alert versions (a
 * file_storage queue: an offer is on disk, fsynced, before it counts as
 * queued) and a loop that takes what is queued, up to the target's batch,
 * sends it, and acknowledges it only once the target took it. A failed
 * attempt is retried with exponential backoff (retry.initial_interval up to
 * retry.max_interval) for as long as it takes; a refusal (an answer that no
 * retry changes) is given up and counted. Stopping leaves what was not
 * delivered in the queue for the next start: at least once, also across
 * kill -9.
 *
 * Each version rides in the queue as one OTLP log record whose body is the
 * alert as JSON (the queue's frame format is an OTLP request), with the
 * dedup token `<id>:<version>`.
 */
import type { QueueItem, BatchQueue } from '../../../core/queue/memory-queue.ts';
import { Payload } from '../../../core/payload.ts';
import { WakeableSleep } from '../../../core/wakeable-sleep.ts';
import { newLogRecord, type LogRecord } from '../../../core/model.ts';
import type { Logger } from '../../../core/telemetry/logger.ts';
import type { Counter, MetricsRegistry } from '../../../core/telemetry/metrics.ts';
import type { Alert } from '../alert.ts';
import { alertFromRow, alertRecord } from '../table.ts';
import { DeliveryError, type Target } from './targets.ts';

export interface RetryOptions {
  initialMs: number;
  maxMs: number;
}

export const OUTCOMES = ['delivered', 'failed', 'refused', 'dropped'] as const;

export function alertItem(a: Alert): QueueItem {
  const record: LogRecord = newLogRecord({ timeUnixNano: a.lastSeen, body: JSON.stringify(alertRecord(a)) });
  const data = Payload.logs({
    resourceLogs: [{ resource: { attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', scopeLogs: [{ scope: { name: 'trailhouse.alerts', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: [record] }] }],
  });
  return { signal: 'logs', data, count: 1, dedupToken: `${a.id}:${a.version}` };
}

/** The alert a queued item holds; throws when it is not one. */
export function itemAlert(item: QueueItem): Alert {
  const data = item.data.records() as { resourceLogs: { scopeLogs: { logRecords: LogRecord[] }[] }[] };
  const body = data.resourceLogs[0]?.scopeLogs[0]?.logRecords[0]?.body;
  if (typeof body !== 'string') throw new Error('queued alert: no JSON body');
  return alertFromRow(JSON.parse(body) as Record<string, unknown>);
}

export class Deliverer {
  private closing = false;
  private loop: Promise<void> | undefined;
  private readonly backoff = new WakeableSleep();
  private readonly outcomes: Record<(typeof OUTCOMES)[number], Counter>;

  constructor(
    readonly target: Target,
    private readonly queue: BatchQueue,
    private readonly retry: RetryOptions,
    private readonly logger: Logger,
    metrics: MetricsRegistry,
  ) {
    const c = (outcome: string) =>
      metrics.counter('trailhouse_alerts_deliveries', 'Alert versions by delivery target and outcome (delivered; failed: an attempt failed and is retried; refused: the target refused it for good; dropped: the queue was full).', { target: target.name, outcome });
    this.outcomes = { delivered: c('delivered'), failed: c('failed'), refused: c('refused'), dropped: c('dropped') };
    const depth = metrics.gauge('trailhouse_alerts_queue_depth', 'Alert versions waiting for delivery, by target.', { target: target.name });
    metrics.onCollect(() => depth.set(this.queue.size));
  }

  get depth(): number {
    return this.queue.size;
  }

  start(): void {
    // An unexpected failure (the queue's disk, say) restarts the loop after a wait instead of
    // ending delivery until the next restart of the pipeline.
    const go = (): Promise<void> =>
      this.run().catch(async (err: unknown) => {
        this.logger.error('alert delivery failed; starting it again', { target: this.target.name, error: err });
        if (this.closing) return;
        await this.backoff.sleep(this.retry.maxMs);
        if (!this.closing) return go();
      });
    this.loop = go();
  }

  /** Queues a version (durably); a full queue drops it, counted. Never throws. */
  enqueue(a: Alert): void {
    let item: QueueItem;
    try {
      item = alertItem(a);
    } catch (err) {
      this.outcomes.dropped.add(1);
      this.logger.error('alert not queued for delivery', { target: this.target.name, alert: a.id, error: err });
      return;
    }
    this.queue.offer(item).catch((err: unknown) => {
      this.outcomes.dropped.add(1);
      this.logger.error('alert not queued for delivery', { target: this.target.name, alert: a.id, error: err });
    });
  }

  private async run(): Promise<void> {
    for (;;) {
      const first = await this.queue.take();
      if (!first || this.closing) return;
      const items = [first];
      while (items.length < this.target.maxBatch && this.queue.size > 0) {
        const next = await this.queue.take();
        if (!next) break;
        items.push(next);
      }
      const alerts: Alert[] = [];
      const good: QueueItem[] = [];
      for (const item of items) {
        try {
          alerts.push(itemAlert(item));
          good.push(item);
        } catch (err) {
          this.outcomes.refused.add(1);
          this.logger.error('a queued alert does not read back; set aside', { target: this.target.name, error: err });
          await this.queue.ack(item, true);
        }
      }
      if (alerts.length && !(await this.send(alerts))) return;
      for (const item of good) await this.queue.ack(item, true);
    }
  }

  /** True once sent or refused for good; false when stopping before it went (left queued). */
  private async send(alerts: Alert[]): Promise<boolean> {
    let wait = this.retry.initialMs;
    for (;;) {
      try {
        await this.target.send(alerts);
        this.outcomes.delivered.add(alerts.length);
        return true;
      } catch (err) {
        if (err instanceof DeliveryError && !err.retryable) {
          this.outcomes.refused.add(alerts.length);
          this.logger.error('alert delivery refused; given up', { target: this.target.name, alerts: alerts.length, error: err.message });
          return true;
        }
        this.outcomes.failed.add(alerts.length);
        if (this.closing) return false;
        this.logger.warn('alert delivery failed; retrying', { target: this.target.name, alerts: alerts.length, retry_in_ms: wait, error: (err as Error).message });
        await this.backoff.sleep(wait, false);
        if (this.closing) return false;
        wait = Math.min(wait * 2, this.retry.maxMs);
      }
    }
  }

  /** Stops after the request in flight; what is not delivered stays queued for the next start. */
  async close(): Promise<void> {
    this.closing = true;
    this.queue.close();
    this.backoff.wake();
    await this.loop;
    await this.queue.dispose?.();
  }
}
