/**
 * Writes the pipeline's counters (stats.ts) to `pipeline_stats` once a
 * minute, on the minute, and the partial minute at shutdown.
 */
import type { Logger } from '../../core/telemetry/logger.ts';
import type { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { ident } from '../clickhouse/schema.ts';
import { StatsSampler, statsInsertSql, statsTableSql } from './stats.ts';

export interface StatsWriterOptions {
  database: string;
  ttlMs: number;
  /** Runs a statement on the store. */
  exec(sql: string): Promise<void>;
  metrics: MetricsRegistry;
  logger: Logger;
  /** For tests: the clock. */
  now?: () => number;
}

export class StatsWriter {
  private timer: NodeJS.Timeout | undefined;
  private sampler: StatsSampler | undefined;
  private writing: Promise<void> = Promise.resolve();
  private readonly now: () => number;

  constructor(private readonly o: StatsWriterOptions) {
    this.now = o.now ?? Date.now;
  }

  async start(): Promise<void> {
    await this.o.exec(`CREATE DATABASE IF NOT EXISTS ${ident(this.o.database)}`);
    await this.o.exec(statsTableSql(this.o.database, this.o.ttlMs));
    this.sampler = new StatsSampler(this.o.metrics);
    this.schedule();
  }

  private schedule(): void {
    const wait = 60_000 - (this.now() % 60_000);
    this.timer = setTimeout(() => {
      // The minute that just ended.
      void this.write(this.now() - 1);
      this.schedule();
    }, wait);
    this.timer.unref();
  }

  /** Samples now (the main thread's counters too, when this runs on the pipeline thread) and writes the rows under the minute holding `atMs`. */
  async write(atMs: number): Promise<void> {
    await this.o.metrics.collect();
    const rows = this.sampler?.sample(atMs) ?? [];
    if (!rows.length) return this.writing;
    this.writing = this.writing.then(() =>
      this.o.exec(statsInsertSql(this.o.database, rows)).catch((err: unknown) => {
        this.o.logger.warn('pipeline_stats: a minute of counters was not stored', { minute: new Date(rows[0]!.minute * 1000).toISOString(), error: err });
      }),
    );
    return this.writing;
  }

  async close(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.write(this.now());
    this.sampler = undefined;
  }
}
