/**
 * JSON strings in a line's bytes, for json-attrs.ts: where one ends, its
 * length once decoded, and the decoding, exactly as JSON.parse decodes
 * (escapes \" \\ \/ \b \f \n \r \t \uXXXX, a surrogate pair as one
 * code point). A control character, a bad escape or a lone surrogate (which
 * JSON.parse keeps and UTF-8 encoding turns into U+FFFD) is refused, for
 * the records path to handle.
 */
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/** What scanString found. */
export interface StringScan {
  /** After the closing quote. */
  strEnd: number;
  /** UTF-8 length once decoded. */
  strLen: number;
  /** Whether there are escapes. */
  strEsc: boolean;
}

const ESCAPED: Record<number, number> = { 0x22: 0x22, 0x5c: 0x5c, 0x2f: 0x2f, 0x62: 0x08, 0x66: 0x0c, 0x6e: 0x0a, 0x72: 0x0d, 0x74: 0x09 };

function hex4(b: Buffer, p: number): number {
  let v = 0;
  for (let i = 0; i < 4; i++) {
    const c = b[p + i]!;
    const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/**
 * The string starting at p (after its opening quote): sets strEnd (after
 * the closing quote), strLen (UTF-8 length once decoded), strEsc; false
 * when it is not a valid JSON string or has a lone surrogate.
 */
export function scanString(b: Buffer, p: number, e: number, out: StringScan): boolean {
  let len = 0;
  let esc = false;
  while (p < e) {
    const c = b[p]!;
    if (c === QUOTE) {
      out.strEnd = p + 1;
      out.strLen = len;
      out.strEsc = esc;
      return true;
    }
    if (c < 0x20) return false;
    if (c !== BACKSLASH) {
      p++;
      len++;
      continue;
    }
    esc = true;
    const x = b[p + 1];
    if (x === 0x75) {
      if (p + 6 > e) return false;
      const u = hex4(b, p + 2);
      if (u < 0) return false;
      p += 6;
      if (u >= 0xd800 && u <= 0xdbff) {
        const lo = b[p] === BACKSLASH && b[p + 1] === 0x75 && p + 6 <= e ? hex4(b, p + 2) : -1;
        if (lo < 0xdc00 || lo > 0xdfff) return false;
        p += 6;
        len += 4;
      } else if (u >= 0xdc00 && u <= 0xdfff) return false;
      else len += u < 0x80 ? 1 : u < 0x800 ? 2 : 3;
    } else if (x !== undefined && ESCAPED[x] !== undefined) {
      p += 2;
      len++;
    } else return false;
  }
  return false;
}

/** Decodes the (valid, checked by string()) escaped string b[p, end) into o at q. */
export function unescape(b: Buffer, p: number, end: number, o: Buffer, q: number): number {
  while (p < end) {
    const c = b[p]!;
    if (c !== BACKSLASH) {
      o[q++] = c;
      p++;
      continue;
    }
    const x = b[p + 1]!;
    if (x !== 0x75) {
      o[q++] = ESCAPED[x]!;
      p += 2;
      continue;
    }
    let u = hex4(b, p + 2);
    p += 6;
    if (u >= 0xd800 && u <= 0xdbff) {
      u = 0x10000 + ((u - 0xd800) << 10) + (hex4(b, p + 2) - 0xdc00);
      p += 6;
    }
    if (u < 0x80) o[q++] = u;
    else if (u < 0x800) {
      o[q++] = 0xc0 | (u >> 6);
      o[q++] = 0x80 | (u & 0x3f);
    } else if (u < 0x10000) {
      o[q++] = 0xe0 | (u >> 12);
      o[q++] = 0x80 | ((u >> 6) & 0x3f);
      o[q++] = 0x80 | (u & 0x3f);
    } else {
      o[q++] = 0xf0 | (u >> 18);
      o[q++] = 0x80 | ((u >> 12) & 0x3f);
      o[q++] = 0x80 | ((u >> 6) & 0x3f);
      o[q++] = 0x80 | (u & 0x3f);
    }
  }
  return q;
}
