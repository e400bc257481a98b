/** The Collector's retry decisions for OTLP export failures, and the wait hints read from the server. */
import { describe, expect, it } from 'vitest';
import { PermanentError, ThrottledError } from '../../core/errors.ts';
import { grpcFailure, httpFailure, parseRetryAfter, retryInfoDelayMs } from './status.ts';

// Protobuf by hand: google.rpc.Status{code=8, details=[Any{type_url, value=RetryInfo{retry_delay=Duration{seconds, nanos}}}]}.
const varint = (n: number) => {
  const out: number[] = [];
  while (n > 127) {
    out.push((n & 127) | 128);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return out;
};
const len = (field: number, body: number[]) => [field * 8 + 2, ...varint(body.length), ...body];
const status = (typeUrl: string, seconds: number, nanos: number) => {
  const duration = [8, ...varint(seconds), 16, ...varint(nanos)];
  const any = [...len(1, [...Buffer.from(typeUrl)]), ...len(2, len(1, duration))];
  return Uint8Array.from([8, 8, ...len(2, [...Buffer.from('slow down')]), ...len(3, any)]);
};

describe('OTLP export failures', () => {
  it('gRPC: retryable codes, permanent ones, RESOURCE_EXHAUSTED only with a wait hint', () => {
    for (const code of [1, 4, 10, 11, 14, 15]) expect(grpcFailure(code, 'x', undefined, 'e')).not.toBeInstanceOf(PermanentError);
    for (const code of [2, 3, 5, 6, 7, 9, 12, 13, 16]) expect(grpcFailure(code, 'x', undefined, 'e')).toBeInstanceOf(PermanentError);
    expect(grpcFailure(8, 'x', undefined, 'e')).toBeInstanceOf(PermanentError);
    const t = grpcFailure(8, 'x', 2500, 'e');
    expect(t).toBeInstanceOf(ThrottledError);
    expect((t as ThrottledError).retryAfterMs).toBe(2500);
  });

  it('HTTP: 429/502/503/504 retried (Retry-After honoured), other statuses permanent', () => {
    for (const s of [400, 401, 403, 404, 413, 500]) expect(httpFailure(s, '', undefined, 'e')).toBeInstanceOf(PermanentError);
    for (const s of [502, 504]) expect(httpFailure(s, '', undefined, 'e')).not.toBeInstanceOf(PermanentError);
    expect((httpFailure(429, 'full', '3', 'e') as ThrottledError).retryAfterMs).toBe(3000);
    expect(String(httpFailure(503, 'down', undefined, 'http://gw/v1/logs'))).toMatch(/http:\/\/gw\/v1\/logs failed: HTTP 503: down/);
  });

  it('Retry-After: seconds or an HTTP date, capped at an hour; junk ignored', () => {
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(parseRetryAfter('120', now)).toBe(120_000);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:00:30 GMT', now)).toBe(30_000);
    expect(parseRetryAfter('999999', now)).toBe(3_600_000);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
  });

  it('reads google.rpc.RetryInfo from grpc-status-details-bin; other details or junk give nothing', () => {
    expect(retryInfoDelayMs(status('type.googleapis.com/google.rpc.RetryInfo', 2, 500_000_000))).toBe(2500);
    expect(retryInfoDelayMs(status('type.googleapis.com/google.rpc.DebugInfo', 2, 0))).toBeUndefined();
    expect(retryInfoDelayMs(Uint8Array.from([0x1a, 0x50, 1, 2]))).toBeUndefined();
  });
});
