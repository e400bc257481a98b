/**
 * `max_records_per_request` before decoding: a protobuf request is counted by
 * its framing (core/otlp/count.ts countRecords, a few ns per record), so one
 * of millions of tiny records is refused (HTTP 413 / gRPC INVALID_ARGUMENT)
 * before the decoder builds an object for each. core/receiver-helper.ts
 * checks the same bound after decoding, for every receiver and format.
 */
import { TooManyRecordsError } from '../../core/errors.ts';
import { countRecords } from '../../core/otlp/count.ts';

export function refuseTooManyRecords(body: Uint8Array, signal: 'logs' | 'traces', max: number): void {
  if (max <= 0 || body.length <= max) return; // every record takes at least one byte
  const n = countRecords(body);
  if (n > max) {
    throw new TooManyRecordsError(`request of ${n} ${signal === 'logs' ? 'log records' : 'spans'} exceeds max_records_per_request ${max}: split it into smaller requests`);
  }
}
