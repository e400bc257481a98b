/**
 * Which failures of an OTLP export are worth retrying, as the Collector's
 * otlp and otlphttp exporters decide:
 * - gRPC: CANCELLED, DEADLINE_EXCEEDED, ABORTED, OUT_OF_RANGE, UNAVAILABLE
 *   and DATA_LOSS are retried; RESOURCE_EXHAUSTED only when the server said
 *   when to retry (a google.rpc.RetryInfo detail; we also take trailhouse's
 *   own `retry-after` metadata); every other code is permanent.
 * - HTTP: 429, 502, 503 and 504 are retried, honouring Retry-After (seconds
 *   or an HTTP date); every other non-2xx is permanent.
 * A server's wait hint becomes a ThrottledError the exporter helper waits out.
 */
import { PermanentError, ThrottledError } from '../../core/errors.ts';

const RETRYABLE_GRPC = new Set([1, 4, 10, 11, 14, 15]);
const RESOURCE_EXHAUSTED = 8;
const RETRYABLE_HTTP = new Set([429, 502, 503, 504]);

/** The error to throw for a gRPC status other than OK. */
export function grpcFailure(code: number, details: string, retryDelayMs: number | undefined, endpoint: string): Error {
  const message = `export to ${endpoint} failed: gRPC status ${code}${details ? `: ${details}` : ''}`;
  if (code === RESOURCE_EXHAUSTED) {
    return retryDelayMs !== undefined ? new ThrottledError(message, retryDelayMs) : new PermanentError(`${message} (no RetryInfo: not retried)`);
  }
  if (!RETRYABLE_GRPC.has(code)) return new PermanentError(message);
  return retryDelayMs ? new ThrottledError(message, retryDelayMs) : new Error(message);
}

/** The error to throw for an HTTP status other than 2xx. */
export function httpFailure(status: number, body: string, retryAfter: string | undefined, endpoint: string): Error {
  const message = `export to ${endpoint} failed: HTTP ${status}${body ? `: ${body.slice(0, 300)}` : ''}`;
  if (!RETRYABLE_HTTP.has(status)) return new PermanentError(message);
  const ms = parseRetryAfter(retryAfter);
  return ms ? new ThrottledError(message, ms) : new Error(message);
}

/** Retry-After: delay-seconds or an HTTP-date (RFC 9110 §10.2.3); undefined when absent or unreadable. */
export function parseRetryAfter(v: string | undefined, now = Date.now()): number | undefined {
  if (!v) return undefined;
  const t = v.trim();
  if (/^\d+$/.test(t)) return Math.min(Number(t), 3600) * 1000;
  const at = Date.parse(t);
  if (Number.isNaN(at)) return undefined;
  return Math.min(Math.max(0, at - now), 3_600_000);
}

/**
 * The retry delay of a google.rpc.Status (grpc-status-details-bin) holding a
 * google.rpc.RetryInfo detail; undefined when it has none or is malformed.
 */
export function retryInfoDelayMs(statusBytes: Uint8Array): number | undefined {
  try {
    for (const [field, detail] of lenFields(statusBytes)) {
      if (field !== 3) continue; // Status.details (Any)
      let typeUrl = '';
      let value: Uint8Array | undefined;
      for (const [f, v] of lenFields(detail)) {
        if (f === 1) typeUrl = Buffer.from(v).toString('utf8');
        else if (f === 2) value = v;
      }
      if (!typeUrl.endsWith('/google.rpc.RetryInfo') || !value) continue;
      for (const [f, duration] of lenFields(value)) {
        if (f !== 1) continue; // RetryInfo.retry_delay (Duration)
        const { seconds, nanos } = readDuration(duration);
        return Math.min(seconds * 1000 + Math.floor(nanos / 1e6), 3_600_000);
      }
      return 0;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

function varint(b: Uint8Array, at: { pos: number }): number {
  let out = 0;
  let mul = 1;
  for (let i = 0; i < 10; i++) {
    if (at.pos >= b.length) throw new Error('truncated varint');
    const byte = b[at.pos++]!;
    out += (byte & 0x7f) * mul;
    if (byte < 0x80) return out;
    mul *= 128;
  }
  throw new Error('varint too long');
}

/** The length-delimited fields of a message, as [field number, bytes]; other wire types skipped. */
function lenFields(b: Uint8Array): Array<[number, Uint8Array]> {
  const out: Array<[number, Uint8Array]> = [];
  const at = { pos: 0 };
  while (at.pos < b.length) {
    const tag = varint(b, at);
    const wt = tag & 7;
    if (wt === 2) {
      const len = varint(b, at);
      if (at.pos + len > b.length) throw new Error('truncated field');
      out.push([Math.floor(tag / 8), b.subarray(at.pos, at.pos + len)]);
      at.pos += len;
    } else if (wt === 0) varint(b, at);
    else if (wt === 1) at.pos += 8;
    else if (wt === 5) at.pos += 4;
    else throw new Error(`wire type ${wt}`);
  }
  return out;
}

function readDuration(b: Uint8Array): { seconds: number; nanos: number } {
  const at = { pos: 0 };
  let seconds = 0;
  let nanos = 0;
  while (at.pos < b.length) {
    const tag = varint(b, at);
    if ((tag & 7) !== 0) throw new Error('unexpected Duration field');
    const v = varint(b, at);
    if (tag >>> 3 === 1) seconds = v;
    else if (tag >>> 3 === 2) nanos = v;
  }
  return { seconds, nanos };
}
