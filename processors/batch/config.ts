import { s, type ConfigError } from '../../core/config/schema.ts';

export interface BatchConfig {
  /** Items (log records or spans) that trigger a send. Default 8192. */
  send_batch_size: number;
  /** Upper bound of a sent batch; larger ones are split. 0 = no bound. Default 0. */
  send_batch_max_size: number;
  /** Send a partial batch after this long (ms). Default 200ms. */
  timeout: number;
  /** Client metadata keys to batch by: one batch per distinct combination of their values. Default none. */
  metadata_keys: string[];
  /** Distinct combinations at most; data bringing one more is refused (permanent). Default 1000. */
  metadata_cardinality_limit: number;
}

export const defaultBatchConfig = (): BatchConfig => ({ send_batch_size: 8192, send_batch_max_size: 0, timeout: 200, metadata_keys: [], metadata_cardinality_limit: 1000 });

export const batchSchema = s.object({
  send_batch_size: s.int({ min: 0 }),
  send_batch_max_size: s.int({ min: 0 }),
  timeout: s.duration(),
  metadata_keys: s.list(s.string({ nonEmpty: true })),
  metadata_cardinality_limit: s.int({ min: 0 }),
});

export function validateBatch(c: BatchConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  if (c.send_batch_max_size > 0 && c.send_batch_max_size < c.send_batch_size) {
    errors.push({ path: 'send_batch_max_size', message: `must be 0 or at least send_batch_size (${c.send_batch_size})` });
  }
  const seen = new Set<string>();
  c.metadata_keys.forEach((k, i) => {
    if (seen.has(k.toLowerCase())) errors.push({ path: `metadata_keys[${i}]`, message: `${JSON.stringify(k)} is listed twice (keys are case-insensitive)` });
    seen.add(k.toLowerCase());
  });
  return errors;
}
