/**
 * The memory limiter: measures the process's memory every `check_interval`
 * and, while it is above the soft limit (limit − spike), refuses new data
 * with a retryable error (HTTP 503 / gRPC UNAVAILABLE), so senders back off
 * instead of the process running out of memory. It recovers by itself once
 * use falls below the soft limit again.
 *
 * What is measured: the JavaScript side's memory (V8 heap used plus Buffers
 * and ArrayBuffers), which is where queued telemetry lives. The embedded
 * ClickHouse engine manages its own memory with its own limits, and counting
 * its caches here would refuse data the pipeline could hold.
 */
import { totalmem } from 'node:os';
import type { Component, CreateSettings, LogsConsumer, NextConsumers, TracesConsumer } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { RefusedError } from '../../core/errors.ts';
import type { LogsData, TracesData } from '../../core/model.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { MemoryLimiterConfig } from './config.ts';

const MiB = 1024 * 1024;

export function measureMemory(): number {
  const m = process.memoryUsage();
  return m.heapUsed + m.external + m.arrayBuffers;
}

/** One limiter per id, shared by every pipeline instance, like the Collector's. */
class Limiter {
  refusing = false;
  private timer: NodeJS.Timeout | undefined;
  private users = 0;
  readonly hard: number;
  readonly soft: number;

  constructor(
    cfg: MemoryLimiterConfig,
    private readonly log: Logger,
    private readonly measure: () => number,
    private readonly interval: number,
  ) {
    if (cfg.limit_mib > 0) {
      this.hard = cfg.limit_mib * MiB;
      const spike = cfg.spike_limit_mib > 0 ? cfg.spike_limit_mib * MiB : this.hard * 0.2;
      this.soft = this.hard - spike;
    } else {
      this.hard = (totalmem() * cfg.limit_percentage) / 100;
      const spikePct = cfg.spike_limit_percentage > 0 ? cfg.spike_limit_percentage : cfg.limit_percentage * 0.2;
      this.soft = this.hard - (totalmem() * spikePct) / 100;
    }
  }

  acquire(): void {
    if (this.users++ === 0) {
      this.check();
      this.timer = setInterval(() => this.check(), this.interval);
      this.timer.unref();
    }
  }

  release(): void {
    if (--this.users === 0 && this.timer) clearInterval(this.timer);
  }

  check(): void {
    const used = this.measure();
    if (!this.refusing && used > this.soft) {
      this.refusing = true;
      this.log.warn('memory usage above the soft limit, refusing data', { used_mib: Math.round(used / MiB), soft_limit_mib: Math.round(this.soft / MiB) });
      (globalThis as { gc?: () => void }).gc?.();
    } else if (this.refusing && used <= this.soft) {
      this.refusing = false;
      this.log.info('memory usage below the soft limit again, accepting data', { used_mib: Math.round(used / MiB) });
    }
  }
}

// Keyed by the decoded config object, which all pipeline instances of one id share.
const limiters = new WeakMap<MemoryLimiterConfig, Limiter>();

export class MemoryLimiterProcessor implements Component, LogsConsumer, TracesConsumer {
  private readonly limiter: Limiter;
  private started = false;

  constructor(
    settings: CreateSettings<MemoryLimiterConfig>,
    private readonly next: NextConsumers,
    measure: () => number = measureMemory,
  ) {
    let l = limiters.get(settings.config);
    if (!l || measure !== measureMemory) {
      l = new Limiter(settings.config, settings.logger, measure, settings.config.check_interval);
      if (measure === measureMemory) limiters.set(settings.config, l);
    }
    this.limiter = l;
  }

  async start(): Promise<void> {
    if (this.started) return;
    this.started = true;
    this.limiter.acquire();
  }

  private admit(): void {
    if (this.limiter.refusing) throw new RefusedError('data refused due to high memory usage', 'memory_limit', 5);
  }

  async consumeLogs(data: LogsData): Promise<void> {
    this.admit();
    return this.next.logs!.consumeLogs(data);
  }

  async consumeTraces(data: TracesData): Promise<void> {
    this.admit();
    return this.next.traces!.consumeTraces(data);
  }

  /** Re-measures now (tests, and after a large release of memory). */
  check(): void {
    this.limiter.check();
  }

  readonly shutdown = once(async () => {
    if (this.started) this.limiter.release();
  });
}
