/**
 * One insert path for every writer of the store (the clickhouse exporter's
 * rows, audit_events, trace_summary parts, and what later writers add):
 * the deduplication token, a timeout, bounded retries of what may succeed
 * later, the classification of what never will (PermanentError), and the
 * same metrics per table. The exporter helper around the clickhouse exporter
 * adds its queue and longer retries on top; processors get this alone, and
 * a failure still travels back to the queue or Kafka partition that keeps
 * the payload.
 */
import type { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { isPermanent } from '../../core/errors.ts';
import { classifyInsertError } from './errors.ts';
import type { InsertRequest, Store } from './store.ts';

export interface InsertPolicy {
  /** Per attempt (ms); 0 = none. Default 30 s. */
  timeoutMs: number;
  /** Further attempts after a retryable failure. Default 2. */
  retries: number;
  /** First pause between attempts (ms), doubled each time. Default 200. */
  backoffMs: number;
}

export const DEFAULT_INSERT_POLICY: InsertPolicy = { timeoutMs: 30_000, retries: 2, backoffMs: 200 };

export interface InsertMetrics {
  rows: (table: string, n: number) => void;
  failed: (table: string, n: number) => void;
}

/** trailhouse_store_inserted_rows / trailhouse_store_insert_failed_rows, by table. */
export function insertMetrics(reg: MetricsRegistry): InsertMetrics {
  return {
    rows: (table, n) => reg.counter('trailhouse_store_inserted_rows', 'Rows the store accepted, by table.', { table }).add(n),
    failed: (table, n) => reg.counter('trailhouse_store_insert_failed_rows', 'Rows of inserts that failed for good (after retries), by table.', { table }).add(n),
  };
}

const sleep = (ms: number, signal?: AbortSignal) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => (clearTimeout(t), resolve()), { once: true });
  });

/**
 * Inserts `req` (its settings carry the dedup token; `rows` counts it for the
 * metrics) with `policy`. Rows the
 * store rejects as malformed are a PermanentError at once; other failures
 * are retried up to `policy.retries` times, the same token each time, so a
 * retry after an insert that did land is dropped by the store.
 */
export async function insertWithPolicy(store: Store, req: InsertRequest, rows: number, policy: InsertPolicy = DEFAULT_INSERT_POLICY, metrics?: InsertMetrics): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const timeout = policy.timeoutMs > 0 ? AbortSignal.timeout(policy.timeoutMs) : undefined;
    const signal = timeout && req.signal ? AbortSignal.any([timeout, req.signal]) : (timeout ?? req.signal);
    try {
      await store.insert({ ...req, signal } as InsertRequest);
      metrics?.rows(req.table, rows);
      return;
    } catch (err) {
      const e = classifyInsertError(timeout?.aborted ? new Error(`insert into ${req.table} timed out after ${policy.timeoutMs} ms`, { cause: err }) : err, req.table);
      if (isPermanent(e) || attempt >= policy.retries || req.signal?.aborted) {
        metrics?.failed(req.table, rows);
        throw e;
      }
      await sleep(policy.backoffMs * 2 ** attempt, req.signal);
    }
  }
}
