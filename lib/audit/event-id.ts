/**
 * The audit event id: `Details['event_id']` of every audit_events row.
 *
 * Deterministic from what every stage sees the same way: the payload's dedup
 * token (chosen upstream: Kafka offsets, the spool's batch; the same on every
 * redelivery), the record's ordinal in the payload (payloads are never
 * merged or split between the detect and audit processors: correlate holds
 * them whole) and the event's position among the record's events. So the
 * detect processor (before correlate) and the audit processor (after it)
 * give one event the same id, and a redelivered payload gives the same ids
 * again. Shape: `<16 hex of sha256(token)>-<record>-<event>`.
 */
import { createHash, randomUUID } from 'node:crypto';
import type { LogsPayload } from '../../core/payload.ts';

/**
 * Gives a payload without a dedup token (a pipeline with no spool or Kafka
 * before it) one, so every stage after names its events alike; the insert
 * dedup that token serves then covers retries of this payload object only,
 * as a token per call did before.
 */
export function ensureDedupToken(payload: LogsPayload): string {
  return (payload.dedupToken ??= `local-${randomUUID()}`);
}

/** The part of the ids shared by every event of a payload. */
export function eventIdPrefix(token: string | undefined): string {
  return createHash('sha256')
    .update(token ?? '')
    .digest('hex')
    .slice(0, 16);
}

export function eventId(prefix: string, record: number, event: number): string {
  return `${prefix}-${record}-${event}`;
}

/** The record ordinal inside an event id, or -1 when it is not one. */
export function recordOfEventId(id: string): number {
  const a = id.indexOf('-');
  const b = id.lastIndexOf('-');
  if (a < 0 || b <= a) return -1;
  const n = Number(id.slice(a + 1, b));
  return Number.isInteger(n) && n >= 0 ? n : -1;
}
