/**
 * A small cache of short ASCII strings read from thrift payloads. Span and
 * tag keys ("span.kind", "http.method", "component") and many values repeat in
 * every span; decoding them anew was the largest cost of a Jaeger batch. A
 * slot is picked by hashing the length and three bytes; a hit is confirmed by
 * comparing the bytes with the cached string's char codes (exact for ASCII),
 * so no copy of the bytes is kept. Misses simply overwrite the slot.
 */
interface FastBuffer extends Buffer {
  utf8Slice(start: number, end: number): string;
  latin1Slice(start: number, end: number): string;
}

const SLOTS = 1024;
const MAX_LEN = 32;
const cache: Array<string | undefined> = new Array(SLOTS).fill(undefined);

export function readCachedString(buf: FastBuffer, start: number, end: number): string {
  const n = end - start;
  if (n > MAX_LEN || n === 0) return n === 0 ? '' : buf.utf8Slice(start, end);
  const slot = (n * 31 + buf[start]! * 7 + buf[start + (n >> 1)]! * 13 + buf[end - 1]!) & (SLOTS - 1);
  const hit = cache[slot];
  if (hit !== undefined && hit.length === n) {
    let i = 0;
    while (i < n && hit.charCodeAt(i) === buf[start + i]) i++;
    if (i === n) return hit;
  }
  for (let i = start; i < end; i++) {
    if (buf[i]! >= 0x80) return buf.utf8Slice(start, end); // non-ASCII: not cached
  }
  const s = buf.latin1Slice(start, end);
  cache[slot] = s;
  return s;
}
