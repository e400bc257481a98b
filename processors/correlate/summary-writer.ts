/**
 * Coalesces trace_summary_parts rows: rows added while an insert is in
 * flight go out together in the next one, so a burst of early flushes costs
 * a few inserts, not one per payload. Each `add` settles when the insert
 * holding its rows did.
 */
import type { SqlStore } from '../../lib/clickhouse/sql-store.ts';
import { summaryNative, summaryRows, type SummaryPart } from './enrich.ts';

interface Waiter {
  resolve(): void;
  reject(err: unknown): void;
}

export class SummaryWriter {
  private rows: [string, SummaryPart][] = [];
  private waiters: Waiter[] = [];
  private running: Promise<void> | undefined;

  constructor(
    private readonly store: SqlStore,
    private readonly table: string,
    private readonly columns: readonly string[],
  ) {}

  /** One partial row per trace of a flush. */
  add(parts: Map<string, SummaryPart>): Promise<void> {
    if (parts.size === 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      for (const r of parts) this.rows.push(r);
      this.waiters.push({ resolve, reject });
      this.running ??= this.loop();
    });
  }

  private async loop(): Promise<void> {
    // Let the flushes of this tick add their rows first.
    await new Promise<void>((r) => setImmediate(r));
    while (this.rows.length) {
      const rows = this.rows;
      const waiters = this.waiters;
      this.rows = [];
      this.waiters = [];
      try {
        await this.store.insert(this.table, this.columns, { json: () => summaryRows(rows).join('\n'), native: () => summaryNative(rows) }, {});
        for (const w of waiters) w.resolve();
      } catch (err) {
        for (const w of waiters) w.reject(err);
      }
    }
    this.running = undefined;
  }

  async drain(): Promise<void> {
    while (this.running) await this.running;
  }
}
