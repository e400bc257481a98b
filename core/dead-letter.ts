/**
 * Where an exporter puts a batch it accepted but can never send (a record
 * that downstream refuses permanently, or that makes a stage throw): kept
 * in a dead-letter directory instead of blocking the queue or vanishing.
 *
 * - Files: `<storage directory>/dead_letter/<exporter id>/<signal>-<ms>-<token>.pb`,
 *   the batch as an OTLP Export*ServiceRequest (replayable with curl or
 *   `trailhouse`), and a `.txt` beside it with the reason. Without a storage
 *   extension there is no directory: the batch is counted and logged only.
 * - At most MAX_FILES batches are kept per exporter; beyond that they are
 *   counted and dropped (a flood of poison cannot fill the disk).
 * - Counted in `trailhouse_exporter_dead_lettered_{log_records,spans}`; logged
 *   once per condition (the error with its numbers left out), then at debug.
 */
import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { PermanentError } from './errors.ts';
import { pendingRecords, rawProto, type LogsData, type TracesData } from './model.ts';
import { encodeLogsProto, encodeTracesProto } from './otlp/index.ts';
import type { QueueItem } from './queue/memory-queue.ts';
import type { Logger } from './telemetry/logger.ts';
import type { Counter, MetricsRegistry } from './telemetry/metrics.ts';

export const MAX_FILES = 10_000;

/**
 * An error that sending the same data again cannot cure: a PermanentError, or a
 * TypeError / RangeError thrown while processing it (a record a stage cannot
 * handle). Retrying those only blocks the queue behind them.
 */
export function cannotSucceed(err: unknown): boolean {
  return err instanceof PermanentError || err instanceof TypeError || err instanceof RangeError;
}

export class DeadLetter {
  private readonly counters: Record<'logs' | 'traces', Counter>;
  private readonly seen = new Set<string>();
  private files = -1; // counted on first use

  constructor(
    private readonly dir: string | null,
    exporter: string,
    metrics: MetricsRegistry,
    private readonly log: Logger,
  ) {
    const l = { exporter };
    this.counters = {
      logs: metrics.counter('trailhouse_exporter_dead_lettered_log_records', 'Number of log records kept in the dead-letter directory (or dropped) because they can never be sent.', l),
      traces: metrics.counter('trailhouse_exporter_dead_lettered_spans', 'Number of spans kept in the dead-letter directory (or dropped) because they can never be sent.', l),
    };
  }

  /** Keeps `item` (never throws: a dead letter that cannot be written is logged and dropped). */
  async keep(item: QueueItem, err: unknown): Promise<void> {
    const reason = err instanceof Error ? `${err.name}: ${err.message}` : String(err);
    let where = 'not kept (no storage directory)';
    try {
      if (this.dir) where = await this.write(item, reason);
    } catch (e) {
      where = `not kept: ${(e as Error).message}`;
    }
    this.counters[item.signal].add(item.count);
    const condition = reason.replace(/\d+/g, 'N').slice(0, 200);
    const fields = { signal: item.signal, items: item.count, error: reason, dead_letter: where };
    if (this.seen.has(condition)) this.log.debug('dead-lettered a batch that can never be sent', fields);
    else {
      if (this.seen.size < 1000) this.seen.add(condition);
      this.log.error('dead-lettered a batch that can never be sent (further ones of this kind are logged at debug)', fields);
    }
  }

  private async write(item: QueueItem, reason: string): Promise<string> {
    const dir = this.dir!;
    if (this.files < 0) {
      await mkdir(dir, { recursive: true });
      this.files = (await readdir(dir)).filter((f) => f.endsWith('.pb')).length;
    }
    if (this.files >= MAX_FILES) return `not kept (${MAX_FILES} batches already in ${dir})`;
    const base = join(dir, `${item.signal}-${Date.now()}-${item.dedupToken.replace(/[^\w-]/g, '_')}`);
    this.files++;
    // The reason first: a .pb present always has its .txt.
    await writeFile(`${base}.txt`, `${reason}\n`);
    await writeFile(`${base}.pb`, requestBytes(item));
    return `${base}.pb`;
  }
}

/** The batch as one OTLP request: its received bytes when it still has them, else encoded. */
function requestBytes(item: QueueItem): Uint8Array {
  const parts = rawProto(item.data) ?? pendingRecords(item.data)?.parts;
  if (parts) return Buffer.concat(parts);
  return item.signal === 'logs' ? encodeLogsProto(item.data as LogsData) : encodeTracesProto(item.data as TracesData);
}
