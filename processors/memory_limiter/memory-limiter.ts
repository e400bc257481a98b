/**
 * The memory limiter: measures the process's memory every `check_interval`
 * and, while it is above the soft limit (limit − spike), refuses new data
 * with a retryable error (HTTP 503 / gRPC UNAVAILABLE), so senders back off
 * instead of the process running out of memory. It recovers by itself once
 * use falls below the soft limit again.
 *
 * Above the soft limit it first forces a full garbage collection (at most
 * every `min_gc_interval_when_soft_limited`, every check above the hard
 * limit) and refuses only if memory is still above the soft limit, as the
 * Collector does. Without that, a heap full of garbage stays "full": refusing
 * stops the allocation that would make V8 collect it, and the limiter never
 * recovers.
 *
 * What is measured: the JavaScript side's memory (V8 heap used plus Buffers
 * and ArrayBuffers), which is where queued telemetry lives, of every thread
 * (the pipeline thread's as it last reported it, core/thread-memory.ts). The embedded
 * ClickHouse engine manages its own memory with its own limits, and counting
 * its caches here would refuse data the pipeline could hold.
 */
import { totalmem } from 'node:os';
import type { Component, CreateSettings, LogsConsumer, NextConsumers, TracesConsumer } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { RefusedError } from '../../core/errors.ts';
import { fullCollection } from '../../core/gc.ts';
import { receivingBytes } from '../../core/inflight.ts';
import { collectOtherThreads, otherThreadsMemory } from '../../core/thread-memory.ts';
import type { LogsPayload, TracesPayload } from '../../core/payload.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { MemoryLimiterConfig } from './config.ts';

const MiB = 1024 * 1024;

export function measureMemory(): number {
  const m = process.memoryUsage();
  // external includes arrayBuffers (Buffers among them). Bodies still being received
  // are left out: the receivers bound them per client and refuse the client that holds
  // too many (core/inflight.ts), so a client keeping many bodies half-sent cannot make
  // the limiter refuse every other sender.
  return Math.max(0, m.heapUsed + m.external - receivingBytes()) + otherThreadsMemory();
}

/** A full collection of this thread's heap, and of the other threads' (they collect on their own turn). */
export function forceGc(): void {
  collectOtherThreads();
  fullCollection();
}

/** One limiter per id, shared by every pipeline instance, like the Collector's. */
class Limiter {
  refusing = false;
  private timer: NodeJS.Timeout | undefined;
  private users = 0;
  readonly hard: number;
  readonly soft: number;

  private lastGc = 0;

  constructor(
    private readonly cfg: MemoryLimiterConfig,
    private readonly log: Logger,
    private readonly measure: () => number,
    private readonly gc: () => void,
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
      this.timer = setInterval(() => this.check(), this.cfg.check_interval);
      this.timer.unref();
    }
  }

  release(): void {
    if (--this.users === 0 && this.timer) clearInterval(this.timer);
  }

  check(): void {
    let used = this.measure();
    if (used > this.soft) {
      const hard = used > this.hard;
      const minInterval = hard ? this.cfg.min_gc_interval_when_hard_limited : this.cfg.min_gc_interval_when_soft_limited;
      const now = Date.now();
      if (now - this.lastGc >= minInterval) {
        const before = used;
        this.gc();
        this.lastGc = Date.now();
        used = this.measure();
        this.log.info('memory usage above the soft limit: forced a garbage collection', {
          limit: hard ? 'hard' : 'soft',
          used_mib_before: Math.round(before / MiB),
          used_mib: Math.round(used / MiB),
          pause_ms: this.lastGc - now,
        });
      }
    }
    const above = used > this.soft;
    if (above && !this.refusing) {
      this.log.warn('memory usage above the soft limit, refusing data', { used_mib: Math.round(used / MiB), soft_limit_mib: Math.round(this.soft / MiB) });
    } else if (!above && this.refusing) {
      this.log.info('memory usage below the soft limit again, accepting data', { used_mib: Math.round(used / MiB) });
    }
    this.refusing = above;
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
    gc: () => void = forceGc,
  ) {
    let l = limiters.get(settings.config);
    if (!l || measure !== measureMemory) {
      l = new Limiter(settings.config, settings.logger, measure, gc);
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

  async consumeLogs(data: LogsPayload): Promise<void> {
    this.admit();
    return this.next.logs!.consumeLogs(data);
  }

  async consumeTraces(data: TracesPayload): Promise<void> {
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
