import { s, type ConfigError } from '../../core/config/schema.ts';

export interface MemoryLimiterConfig {
  /** How often memory use is measured (ms). Default 1s. */
  check_interval: number;
  /** Hard limit in MiB. One of limit_mib / limit_percentage is required. */
  limit_mib: number;
  /** Headroom below the hard limit; data is refused above limit − spike. Default 20% of the limit. */
  spike_limit_mib: number;
  /** Hard limit as a percentage of the machine's memory (used when limit_mib is 0). */
  limit_percentage: number;
  spike_limit_percentage: number;
  /** Above the soft limit, a full garbage collection is forced at most this often before refusing (ms). Default 10s, as the Collector's. */
  min_gc_interval_when_soft_limited: number;
  /** The same above the hard limit. Default 0: every check. */
  min_gc_interval_when_hard_limited: number;
}

export const defaultMemoryLimiterConfig = (): MemoryLimiterConfig => ({
  check_interval: 1000,
  limit_mib: 0,
  spike_limit_mib: 0,
  limit_percentage: 0,
  spike_limit_percentage: 0,
  min_gc_interval_when_soft_limited: 10_000,
  min_gc_interval_when_hard_limited: 0,
});

export const memoryLimiterSchema = s.object({
  check_interval: s.duration(),
  limit_mib: s.int({ min: 0 }),
  spike_limit_mib: s.int({ min: 0 }),
  limit_percentage: s.int({ min: 0, max: 100 }),
  spike_limit_percentage: s.int({ min: 0, max: 100 }),
  min_gc_interval_when_soft_limited: s.duration(),
  min_gc_interval_when_hard_limited: s.duration(),
});

export function validateMemoryLimiter(c: MemoryLimiterConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  if (c.check_interval <= 0) errors.push({ path: 'check_interval', message: 'must be greater than 0' });
  if (c.limit_mib === 0 && c.limit_percentage === 0) {
    errors.push({ path: 'limit_mib', message: 'one of limit_mib or limit_percentage must be set' });
  }
  if (c.limit_mib > 0 && c.spike_limit_mib >= c.limit_mib) {
    errors.push({ path: 'spike_limit_mib', message: `must be smaller than limit_mib (${c.limit_mib})` });
  }
  if (c.limit_percentage > 0 && c.spike_limit_percentage >= c.limit_percentage) {
    errors.push({ path: 'spike_limit_percentage', message: `must be smaller than limit_percentage (${c.limit_percentage})` });
  }
  return errors;
}
