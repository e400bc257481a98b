import { s, type ConfigError } from '../../core/config/schema.ts';
import { storeConfigDefaults, storeConfigSchemaFields, validateStoreConfig, type StoreConfig } from '../../lib/clickhouse/store-config.ts';

export interface CorrelateConfig extends StoreConfig {
  /** How long a payload is held so logs and spans of its traces can meet (ms). Default 10s. */
  wait: number;
  /** Traces indexed at most; beyond it the least recently seen trace is dropped from the index and its payloads flushed early (counted). Default 100000. */
  max_traces: number;
  /** Items (spans + log records) held in pending payloads at most; beyond it the oldest payloads flush early (counted). Default 500000 (about 10 s of a busy pipeline's records). */
  max_items: number;
  /** Flush the oldest half of the held payloads when the V8 heap exceeds this (bytes; 0 = off). Default 0. */
  memory_limit: number;
  /** Span attributes carrying the request id (Envoy's tracer records `guid:x-request-id`). */
  span_request_id_attributes: string[];
  /** Write trace_summary. Default true. */
  summary: boolean;
  /** The summary view's name (its table is `<table>_parts`). Default `trace_summary`. */
  table: string;
  /** The audit processor's table, counted into the summary ('' = none). Default `audit_events`. */
  audit_table: string;
  /** Summary rows not updated for this long are dropped (0 = keep). Default 0. */
  ttl: number;
}

export const defaultCorrelateConfig = (): CorrelateConfig => ({
  wait: 10_000,
  max_traces: 100_000,
  max_items: 500_000,
  memory_limit: 0,
  span_request_id_attributes: ['guid:x-request-id', 'http.request.header.x-request-id', 'x_request_id'],
  summary: true,
  ...storeConfigDefaults(),
  table: 'trace_summary',
  audit_table: 'audit_events',
  ttl: 0,
});

export const correlateSchema = s.object({
  wait: s.duration(),
  max_traces: s.int({ min: 1 }),
  max_items: s.int({ min: 1 }),
  memory_limit: s.bytes(),
  span_request_id_attributes: s.list(s.string({ nonEmpty: true })),
  summary: s.bool(),
  ...storeConfigSchemaFields,
  table: s.string({ nonEmpty: true }),
  audit_table: s.string(),
  ttl: s.duration(),
});

const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function validateCorrelate(c: CorrelateConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  if (c.wait <= 0) errors.push({ path: 'wait', message: 'must be greater than 0' });
  errors.push(...validateStoreConfig(c as CorrelateConfig & Record<string, unknown>, ['table']));
  if (c.audit_table && !IDENT.test(c.audit_table)) errors.push({ path: 'audit_table', message: `expected a table name or '', got ${JSON.stringify(c.audit_table)}` });
  return errors;
}
