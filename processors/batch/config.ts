import { s, type ConfigError } from '../../core/config/schema.ts';

export interface BatchConfig {
  /** Items (log records or spans) that trigger a send. Default 8192. */
  send_batch_size: number;
  /** Upper bound of a sent batch; larger ones are split. 0 = no bound. Default 0. */
  send_batch_max_size: number;
  /** Send a partial batch after this long (ms). Default 200ms. */
  timeout: number;
}

export const defaultBatchConfig = (): BatchConfig => ({ send_batch_size: 8192, send_batch_max_size: 0, timeout: 200 });

export const batchSchema = s.object({
  send_batch_size: s.int({ min: 0 }),
  send_batch_max_size: s.int({ min: 0 }),
  timeout: s.duration(),
});

export function validateBatch(c: BatchConfig): ConfigError[] {
  if (c.send_batch_max_size > 0 && c.send_batch_max_size < c.send_batch_size) {
    return [{ path: 'send_batch_max_size', message: `must be 0 or at least send_batch_size (${c.send_batch_size})` }];
  }
  return [];
}
