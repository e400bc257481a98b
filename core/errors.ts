/**
 * Whether a failure is worth retrying is decided here, once, and every
 * receiver maps the answer to its protocol's status (see `statusFor`).
 *
 * - PermanentError: the data itself is bad (unparsable, a type ClickHouse
 *   rejects). Retrying cannot help: HTTP 400 / gRPC INVALID_ARGUMENT.
 * - RefusedError: the pipeline is healthy but full (memory limit, queue full).
 *   The sender should back off and retry: HTTP 429 or 503 + Retry-After /
 *   gRPC RESOURCE_EXHAUSTED or UNAVAILABLE.
 * - anything else: transient (a server down, a timeout): 503 / UNAVAILABLE.
 */

export class PermanentError extends Error {
  override readonly name = 'PermanentError';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

/**
 * A request with more records than the receiver's `max_records_per_request`:
 * permanent (resent as it is, it is refused again; the sender must split it),
 * HTTP 413 / gRPC INVALID_ARGUMENT.
 */
export class TooManyRecordsError extends PermanentError {
  constructor(message: string) {
    super(message);
    Object.defineProperty(this, 'name', { value: 'TooManyRecordsError', enumerable: false });
  }
}

export type RefusalReason = 'memory_limit' | 'queue_full' | 'shutting_down';

export class RefusedError extends Error {
  override readonly name = 'RefusedError';
  constructor(
    message: string,
    readonly reason: RefusalReason,
    /** Seconds the sender should wait before retrying. */
    readonly retryAfterSeconds = 1,
  ) {
    super(message);
  }
}

/**
 * A transient failure whose peer said when to try again (HTTP Retry-After,
 * gRPC RetryInfo): the exporter helper waits at least that long before the
 * next attempt, as the Collector's exporterhelper honours a throttle.
 */
export class ThrottledError extends Error {
  override readonly name = 'ThrottledError';
  constructor(
    message: string,
    /** How long the peer asked us to wait (ms). */
    readonly retryAfterMs: number,
  ) {
    super(message);
  }
}

export function isPermanent(err: unknown): boolean {
  return err instanceof PermanentError;
}

// gRPC status codes used by receivers (numeric values from grpc's status.proto).
export const GrpcCode = {
  OK: 0,
  INVALID_ARGUMENT: 3,
  RESOURCE_EXHAUSTED: 8,
  UNIMPLEMENTED: 12,
  INTERNAL: 13,
  UNAVAILABLE: 14,
} as const;

export interface ProtocolStatus {
  http: number;
  grpc: number;
  retryAfterSeconds?: number;
  message: string;
}

/**
 * Maps a downstream failure to protocol status, following the Collector's
 * otlpreceiver: permanent → 400/INVALID_ARGUMENT; the memory limiter's
 * refusal → 503/UNAVAILABLE (retryable, per the OTLP spec); a full queue →
 * 429/RESOURCE_EXHAUSTED; other errors → 503/UNAVAILABLE.
 */
export function statusFor(err: unknown): ProtocolStatus {
  const message = err instanceof Error ? err.message : String(err);
  if (err instanceof TooManyRecordsError) return { http: 413, grpc: GrpcCode.INVALID_ARGUMENT, message };
  if (err instanceof PermanentError) return { http: 400, grpc: GrpcCode.INVALID_ARGUMENT, message };
  if (err instanceof RefusedError) {
    if (err.reason === 'queue_full') {
      return { http: 429, grpc: GrpcCode.RESOURCE_EXHAUSTED, retryAfterSeconds: err.retryAfterSeconds, message };
    }
    return { http: 503, grpc: GrpcCode.UNAVAILABLE, retryAfterSeconds: err.retryAfterSeconds, message };
  }
  return { http: 503, grpc: GrpcCode.UNAVAILABLE, retryAfterSeconds: 5, message };
}
