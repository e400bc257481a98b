/** What both OTLP exporters do with a payload before and after sending it. */
import type { AnyPayload } from '../../core/payload.ts';
import type { Signal } from '../../core/model.ts';
import type { ExportResult } from '../../core/otlp/response.ts';
import type { Logger } from '../../core/telemetry/logger.ts';

/**
 * One Export request holding the payload's records. Bytes received (or
 * replayed from a persistent queue) go out as they are: concatenated
 * Export requests of one type are one valid request (protobuf merges
 * repeated fields), so nothing is decoded or encoded again. Records that
 * have no bytes (a stage changed them) are encoded once.
 */
export function requestBytes(p: AnyPayload): Uint8Array {
  const parts = p.bytes() ?? p.toBytes();
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * A partial success is a success whose rejected items the server will never
 * take: retrying the request cannot help, so it is logged (with the server's
 * reason) and not retried, as the Collector does.
 */
export function reportPartial(log: Logger, signal: Signal, endpoint: string, r: ExportResult): void {
  if (r.rejected === 0 && r.errorMessage === '') return;
  log.warn('the server rejected part of an export', { endpoint, signal, rejected: r.rejected, reason: r.errorMessage });
}

export const EXPORT_PATH = {
  logs: '/opentelemetry.proto.collector.logs.v1.LogsService/Export',
  traces: '/opentelemetry.proto.collector.trace.v1.TraceService/Export',
} as const;

/**
 * Each request carries its batch's deduplication token, the same on every
 * attempt and on a replay from the persistent queue after a crash, so the
 * receiving side can tell a repeat from new data (a plain OTLP receiver
 * ignores the header; trailhouse's answers a repeat without storing it
 * twice: core/repeats.ts).
 */
export { DEDUP_HEADER } from '../../core/repeats.ts';
