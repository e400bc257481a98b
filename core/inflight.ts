/**
 * Bounds on what a receiver's listener holds for requests still being
 * received, so one client cannot starve the others (issue 15 §4):
 *
 * - bytes of bodies still arriving, per client address and in total for the
 *   listener: beyond them that client's request is refused (429 per client,
 *   503 for the listener; gRPC RESOURCE_EXHAUSTED) with Retry-After;
 * - a body (or a gRPC request message) that stops arriving is dropped after
 *   `body_idle_timeout` (HTTP 408);
 * - connections per listener;
 * - records per request (core/receiver-helper.ts): more is HTTP 413 / gRPC
 *   INVALID_ARGUMENT, a permanent error (the sender must split the request).
 *
 * These bytes are left out of what the memory limiter measures
 * (`receivingBytes`): they are bounded here and refused to their own client,
 * so a client holding many unfinished bodies cannot make every other sender
 * get 503 from the memory limiter.
 */
import { s, type ConfigError, type Schema } from './config/schema.ts';

const MiB = 1024 * 1024;

export interface ReceiveLimits {
  /** Bytes of unfinished request bodies one client address may hold on this listener. */
  max_inflight_bytes_per_client: number;
  /** Bytes of unfinished request bodies all clients may hold on this listener. */
  max_inflight_bytes: number;
  /** Drop a request whose body sends nothing for this long (ms); 0 = never. */
  body_idle_timeout: number;
  /** Open connections per listener; beyond it new ones are closed at once. 0 = no limit. */
  max_connections: number;
  /** Records (log records, spans) in one request; 0 = no limit. */
  max_records_per_request: number;
}

export const receiveLimitDefaults = (): ReceiveLimits => ({
  max_inflight_bytes_per_client: 64 * MiB,
  max_inflight_bytes: 256 * MiB,
  body_idle_timeout: 30_000,
  max_connections: 4096,
  max_records_per_request: 100_000,
});

export const receiveLimitSchemaFields: Record<string, Schema> = {
  max_inflight_bytes_per_client: s.bytes(),
  max_inflight_bytes: s.bytes(),
  body_idle_timeout: s.duration(),
  max_connections: s.int({ min: 0 }),
  max_records_per_request: s.int({ min: 0 }),
};

export function validateReceiveLimits(c: ReceiveLimits, path: string): ConfigError[] {
  const errors: ConfigError[] = [];
  const at = (k: string) => (path ? `${path}.${k}` : k);
  if (c.max_inflight_bytes_per_client <= 0) errors.push({ path: at('max_inflight_bytes_per_client'), message: 'must be greater than 0' });
  if (c.max_inflight_bytes < c.max_inflight_bytes_per_client) {
    errors.push({ path: at('max_inflight_bytes'), message: 'must be at least max_inflight_bytes_per_client' });
  }
  return errors;
}

/** Process-wide bytes held by requests still being received, on every listener. */
let receiving = 0;

/** What the memory limiter leaves out of its measure (see above). */
export function receivingBytes(): number {
  return receiving;
}

export type Refusal = 'client' | 'listener';

/** The in-flight byte accounts of one listener. */
export class InflightBudget {
  private total = 0;
  private readonly perClient = new Map<string, number>();

  constructor(readonly limits: ReceiveLimits) {}

  /** Counts `n` more bytes held for `client`; on a refusal nothing is counted. */
  take(client: string, n: number): Refusal | undefined {
    const held = this.perClient.get(client) ?? 0;
    if (held + n > this.limits.max_inflight_bytes_per_client) return 'client';
    if (this.total + n > this.limits.max_inflight_bytes) return 'listener';
    this.perClient.set(client, held + n);
    this.total += n;
    receiving += n;
    return undefined;
  }

  /** Gives back `n` bytes of `client` (its request was received whole, refused or abandoned). */
  give(client: string, n: number): void {
    if (n === 0) return;
    const held = (this.perClient.get(client) ?? 0) - n;
    if (held > 0) this.perClient.set(client, held);
    else this.perClient.delete(client);
    this.total -= n;
    receiving -= n;
  }

  /** Bytes held on this listener now (tests, metrics). */
  get held(): number {
    return this.total;
  }
}

/** The text a refusal is answered with. */
export function refusalMessage(r: Refusal, limits: ReceiveLimits): string {
  return r === 'client'
    ? `too many bytes in unfinished requests from this client (max_inflight_bytes_per_client ${limits.max_inflight_bytes_per_client}): retry later`
    : `too many bytes in unfinished requests on this listener (max_inflight_bytes ${limits.max_inflight_bytes}): retry later`;
}

/** Seconds a refused client is asked to wait. */
export const REFUSAL_RETRY_AFTER_SECONDS = 5;
