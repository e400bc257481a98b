/** Bytes a record's static headers (record_headers) take: key, value and their varint framing, generously. */
export function headerBytes(headers: Record<string, string>): number {
  let n = 0;
  for (const [k, v] of Object.entries(headers)) n += Buffer.byteLength(k) + Buffer.byteLength(v) + 10;
  return n;
}
