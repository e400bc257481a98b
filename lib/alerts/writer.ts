/**
 * Writes alert versions to `audit_alerts`, batched: versions wait up to
 * `flushMs` (1 s) and go in one insert; several versions of one alert in the
 * same wait are one row (the newest), so the buffer holds at most one row per
 * alert changed. A refused insert is retried with backoff under the same
 * dedup token (a retry that did land is stored once) until it is stored or
 * the writer closes; a malformed batch (PermanentError) is dropped, logged
 * and counted.
 */
import { randomUUID } from 'node:crypto';
import { PermanentError } from '../../core/errors.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { Counter } from '../../core/telemetry/metrics.ts';
import type { Alert } from './alert.ts';
import { alertRow } from './table.ts';

export interface AlertWriterOptions {
  flushMs: number;
  retryInitialMs: number;
  retryMaxMs: number;
}

/** Inserts JSONEachRow lines into the alerts table under a dedup token. */
export type InsertAlerts = (body: string, rows: number, dedupToken: string) => Promise<void>;

interface Waiter {
  resolve: () => void;
  reject: (err: unknown) => void;
}

export class AlertWriter {
  private pending = new Map<string, Alert>();
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private closing = false;
  private wake: (() => void) | undefined;

  constructor(
    private readonly insert: InsertAlerts,
    private readonly o: AlertWriterOptions,
    private readonly logger: Logger,
    private readonly failures?: Counter,
  ) {
    this.timer = setInterval(() => void this.flush(), o.flushMs);
    this.timer.unref();
  }

  get buffered(): number {
    return this.pending.size;
  }

  /** Queues a version for the next insert. */
  add(a: Alert): void {
    const held = this.pending.get(a.id);
    if (!held || held.version < a.version) this.pending.set(a.id, a);
  }

  /** Queues a version and settles once it is stored (rejects if it could not be). */
  write(a: Alert): Promise<void> {
    this.add(a);
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    void this.flush();
    return p;
  }

  /** Stores what is queued; never rejects. */
  flush(): Promise<void> {
    this.flushing ??= this.drain().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async drain(): Promise<void> {
    while (this.pending.size > 0 || this.waiters.length > 0) {
      const rows = [...this.pending.values()];
      const waiters = this.waiters;
      this.pending = new Map();
      this.waiters = [];
      let error: unknown;
      if (rows.length) error = await this.store(rows);
      for (const w of waiters) {
        if (error === undefined) w.resolve();
        else w.reject(error);
      }
    }
  }

  /** Inserts, retrying; the error when given up, else undefined. */
  private async store(rows: Alert[]): Promise<unknown> {
    const body = rows.map(alertRow).join('\n');
    const token = randomUUID();
    let wait = this.o.retryInitialMs;
    for (;;) {
      try {
        await this.insert(body, rows.length, token);
        return undefined;
      } catch (err) {
        if (err instanceof PermanentError || this.closing) {
          this.failures?.add(rows.length);
          this.logger.error('alerts not stored', { alerts: rows.length, error: err });
          return err;
        }
        this.logger.warn('storing alerts failed; retrying', { alerts: rows.length, retry_in_ms: wait, error: err });
        await new Promise<void>((r) => {
          const t = setTimeout(r, wait);
          t.unref();
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wake = undefined;
        wait = Math.min(wait * 2, this.o.retryMaxMs);
      }
    }
  }

  /** Stores what is queued (one more attempt if a retry is waiting), then stops. */
  async close(): Promise<void> {
    clearInterval(this.timer);
    this.closing = true;
    this.wake?.();
    await this.flush();
  }
}
