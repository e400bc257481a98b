/** Bytes a record's static headers (record_headers) take: key, value and their varint framing, generously. */
export function headerBytes(headers: Readonly<Record<string, string | readonly string[]>>): number {
  let n = 0;
  for (const [k, v] of Object.entries(headers)) for (const x of typeof v === 'string' ? [v] : v) n += Buffer.byteLength(k) + Buffer.byteLength(x) + 10;
  return n;
}
