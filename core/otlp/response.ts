/**
 * Export{Logs,Trace}ServiceResponse, protobuf and JSON: an optional
 * partial_success { rejected_log_records / rejected_spans (int64), error_message }
 * (field numbers: wire-fields.gen.ts).
 *
 * A full success carries no partial_success (empty bytes / `{}`), as the spec asks.
 */
import type { Signal } from '../model.ts';
import { asObj, get, parseJsonRoot, str, toBigInt } from './json-util.ts';
import { Reader, sharedWriter } from './protowire.ts';
import {
  ExportLogsPartialSuccessField, ExportLogsPartialSuccessTag, ExportLogsServiceResponseField,
  ExportLogsServiceResponseTag, otlpKnown,
} from './wire-fields.gen.ts';

export interface ExportResult {
  /** Items (log records or spans) the server rejected. */
  rejected: number;
  /** Why; empty when nothing went wrong. */
  errorMessage: string;
}

function rejectedKey(signal: Signal): [string, string] {
  return signal === 'logs' ? ['rejectedLogRecords', 'rejected_log_records'] : ['rejectedSpans', 'rejected_spans'];
}

export function encodeExportResponse(signal: Signal, result: ExportResult = { rejected: 0, errorMessage: '' }): Uint8Array {
  void signal; // both signals share field numbers and tags (wire-fields.test.ts): the logs names serve both
  const w = sharedWriter();
  if (result.rejected !== 0 || result.errorMessage !== '') {
    const at = w.startMessage(ExportLogsServiceResponseField.partial_success);
    if (result.rejected !== 0) {
      w.uint32(ExportLogsPartialSuccessTag.rejected_log_records);
      w.int64(BigInt(result.rejected));
    }
    if (result.errorMessage !== '') w.string(ExportLogsPartialSuccessField.error_message, result.errorMessage);
    w.endMessage(at);
  }
  return w.finish();
}

export function decodeExportResponse(signal: Signal, data: Uint8Array): ExportResult {
  void signal;
  const r = new Reader(data);
  const out: ExportResult = { rejected: 0, errorMessage: '' };
  while (r.pos < r.len) {
    const tag = r.uint32();
    if (tag !== ExportLogsServiceResponseTag.partial_success) {
      r.other(tag, otlpKnown.ExportLogsServiceResponse, r.len, 'ExportServiceResponse');
      continue;
    }
    const end = r.lenEnd(r.len);
    while (r.pos < end) {
      const t = r.uint32();
      if (t === ExportLogsPartialSuccessTag.rejected_log_records) out.rejected = Number(r.int64());
      else if (t === ExportLogsPartialSuccessTag.error_message) out.errorMessage = r.string(end);
      else r.other(t, otlpKnown.ExportLogsPartialSuccess, end, 'ExportPartialSuccess');
    }
    r.expectEnd(end, 'ExportPartialSuccess');
  }
  return out;
}

export function encodeExportResponseJson(signal: Signal, result: ExportResult = { rejected: 0, errorMessage: '' }): string {
  if (result.rejected === 0 && result.errorMessage === '') return '{}';
  const partial: Record<string, string> = {};
  if (result.rejected !== 0) partial[rejectedKey(signal)[0]] = String(result.rejected);
  if (result.errorMessage !== '') partial.errorMessage = result.errorMessage;
  return JSON.stringify({ partialSuccess: partial });
}

export function decodeExportResponseJson(signal: Signal, input: string | Uint8Array): ExportResult {
  const [camel, snake] = rejectedKey(signal);
  return parseJsonRoot(input, 'export response', (root) => {
    const p = asObj(get(root, 'partialSuccess', 'partial_success'), 'partialSuccess');
    if (p === undefined) return { rejected: 0, errorMessage: '' };
    const n = get(p, camel, snake);
    return {
      rejected: n === undefined || n === null ? 0 : Number(toBigInt(n, camel)),
      errorMessage: str(p, 'errorMessage', 'error_message'),
    };
  });
}
