/**
 * Strict standard base64 (RFC 4648 §4, with padding): Buffer.from(s, 'base64')
 * silently skips characters it does not know and accepts missing padding, so a
 * mangled signature or root could decode to something. Here only the one
 * canonical encoding of the bytes is accepted.
 */
const B64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** The bytes of `s`, or null when it is not canonical padded standard base64. */
export function decodeBase64(s: string): Buffer | null {
  if (typeof s !== 'string' || !B64.test(s)) return null;
  const b = Buffer.from(s, 'base64');
  // Rejects non-zero unused bits in the last character (a second spelling of the same bytes).
  return b.toString('base64') === s ? b : null;
}
