/**
 * OTLP strings are UTF-8 (proto3 `string`): a request with a string field
 * that is not valid UTF-8 is refused (400 / INVALID_ARGUMENT), as protobuf-go
 * and so the Collector do, rather than stored with U+FFFD in it or, on the
 * bytes-only path, as the invalid bytes themselves.
 */
import { isUtf8 } from 'node:buffer';

/**
 * Checks string fields of the request being scanned (`begin` … `end`; scans are
 * synchronous, one at a time). Almost every field is ASCII, and a call into C++
 * per field (plus a view to hand it) costs more than the field, so ASCII is
 * checked in JS four bytes at a time through a Uint32Array over the buffer's
 * memory; only a field with a byte >= 0x80 goes to `buffer.isUtf8`.
 */
const NONE: Uint8Array = new Uint8Array(0);
let bytes = NONE;
let words: Uint32Array = new Uint32Array(0);
let base = 0;

export function beginUtf8(buf: Uint8Array): void {
  bytes = new Uint8Array(buf.buffer, 0, buf.buffer.byteLength);
  words = new Uint32Array(buf.buffer, 0, buf.buffer.byteLength >>> 2);
  base = buf.byteOffset;
}

/** Lets the request's memory go. */
export function endUtf8(): void {
  bytes = NONE;
  words = new Uint32Array(0);
}

/** Whether [start, end) of the buffer given to `beginUtf8` is valid UTF-8. */
export function utf8Ok(start: number, end: number): boolean {
  let s = start + base;
  const e = end + base;
  let acc = 0;
  while (s < e && (s & 3) !== 0) acc |= bytes[s++]!;
  const wEnd = e >>> 2;
  let w = s >>> 2;
  for (; w + 1 < wEnd; w += 2) acc |= words[w]! | words[w + 1]!;
  if (w < wEnd) acc |= words[w]!;
  for (s = Math.max(s, wEnd << 2); s < e; s++) acc |= bytes[s]!;
  return (acc & 0x80808080) === 0 || isUtf8(new Uint8Array(bytes.buffer, start + base, end - start));
}

/**
 * For a string just made by utf8Slice from buf[start, end): invalid bytes come out
 * as U+FFFD, so only a string holding U+FFFD needs the bytes checked (a one-byte
 * string cannot hold it, and V8 answers that without scanning).
 */
export function slicedUtf8Ok(s: string, buf: Uint8Array, start: number, end: number): boolean {
  return !s.includes('\uFFFD') || isUtf8(new Uint8Array(buf.buffer, buf.byteOffset + start, end - start));
}
