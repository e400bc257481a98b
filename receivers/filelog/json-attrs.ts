/**
 * A JSON-object line's fields as OTLP KeyValue bytes, scanned straight from
 * the read buffer (the bytes path of envoy_json_parser / json_parser with
 * parse_to: attributes): no JS object, string per field or KeyValue made.
 *
 * It handles exactly the flat objects Envoy and Istio write: string, number,
 * true, false and null values, and maps them as the records path does
 * (lib/mesh/json-line.ts addObjectAttributes after JSON.parse): a safe
 * integer → int_value, any other number → double_value, null → no
 * attribute, escapes decoded as JSON.parse decodes them. Whatever it does
 * not reproduce exactly is reported as FALLBACK, and the caller runs the
 * records path for that line instead: nested objects and arrays, invalid
 * JSON of any kind (the records path decides what on_error does with it),
 * duplicate keys (JSON.parse keeps the last value at the first position),
 * keys that JSON.parse would order first (array indices: any key starting
 * with a digit), keys with escapes, the empty key, `__proto__`, the file
 * attributes' own keys, lone surrogates, a start_time string with escapes,
 * more than MAX_KEYS fields. The caller checks the line is valid UTF-8.
 *
 * Wire (opentelemetry/proto/common/v1): LogRecord.attributes = 6;
 * KeyValue.key = 1, value = 2; AnyValue string_value = 1, bool_value = 2,
 * int_value = 3 (int64 varint), double_value = 4 (fixed64).
 */
import { copyBytes, putVarint, varintLen } from './bytes.ts';
import type { ByteBuf } from '../../core/byte-buf.ts';
import { scanString, unescape, type StringScan } from './json-string.ts';
import { startTimeBytes } from './start-time.ts';
import { AnyValueTag, KeyValueTag, LogRecordTag } from '../../core/otlp/wire-fields.gen.ts';

/** A LogRecord.attributes KeyValue up to its value's AnyValue body: tags, lengths and the key copied from b[ks, ks + klen). Returns the new q. */
function keyValueHead(o: Buffer, q: number, b: Uint8Array, ks: number, klen: number, kvLen: number, anyLen: number): number {
  o[q++] = LogRecordTag.attributes;
  q = putVarint(o, q, kvLen);
  o[q++] = KeyValueTag.key;
  q = putVarint(o, q, klen);
  q = copyBytes(b, ks, ks + klen, o, q);
  o[q++] = KeyValueTag.value;
  return putVarint(o, q, anyLen);
}

/** fields(): the fields were written. */
export const PARSED = 1;
/** fields(): not handled here, the records path decides. */
export const FALLBACK = 2;

/** objectStart(): the first non-blank byte is not `{`, not a JSON object (on_error applies). */
export const START_NOT_OBJECT = -1;
/** objectStart(): leading bytes JSON does not allow but the records path's trimStart skips: the records path decides. */
export const START_FALLBACK = -2;

/** Fields per line handled here (duplicate keys are looked for pairwise). */
const MAX_KEYS = 128;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const START_TIME = Buffer.from('start_time');
const PROTO = Buffer.from('__proto__');
const FILE_KEY = Buffer.from('log.file.');

const isWs = (c: number | undefined) => c === 0x20 || c === 0x09 || c === 0x0a || c === 0x0d;
const isDigit = (c: number | undefined) => c !== undefined && c >= 0x30 && c <= 0x39;

function sameBytes(b: Buffer, a: number, c: number, len: number): boolean {
  for (let i = 0; i < len; i++) if (b[a + i] !== b[c + i]) return false;
  return true;
}

function equalsAt(b: Buffer, p: number, len: number, want: Buffer): boolean {
  if (len !== want.length) return false;
  for (let i = 0; i < len; i++) if (b[p + i] !== want[i]) return false;
  return true;
}

export class JsonAttrScanner implements StringScan {
  private readonly keyAt = new Int32Array(MAX_KEYS);
  private readonly keyLen = new Int32Array(MAX_KEYS);
  /** After PARSED with `withTime`: whether START_TIME gave a time, and it as two 32-bit halves. */
  hasTime = false;
  timeLo = 0;
  timeHi = 0;
  /** Set by scanString(): the end of the string (after its closing quote), its decoded length, whether it has escapes. */
  strEnd = 0;
  strLen = 0;
  strEsc = false;

  /**
   * Where the JSON object of buf[s, e) starts (its `{`), or START_NOT_OBJECT,
   * or START_FALLBACK for a line whose leading blanks JSON does not allow but the
   * records path skips (trimStart: \v, \f, Unicode spaces).
   */
  objectStart(b: Buffer, s: number, e: number): number {
    let p = s;
    while (p < e && isWs(b[p])) p++;
    if (p < e && b[p] === 0x7b) return p;
    return p < e && (b[p] === 0x0b || b[p] === 0x0c || b[p]! >= 0x80) ? START_FALLBACK : START_NOT_OBJECT;
  }

  /**
   * Writes the attributes of the object starting at buf[p] (its `{`) up to
   * e into `out` at out.pos (each a LogRecord attributes field, tag
   * included; out has room for 3 × (e - p) + 64 bytes); with `withTime`,
   * START_TIME is read too. Returns PARSED (out.pos moved) or FALLBACK
   * (out.pos unchanged, bytes after it written over).
   */
  fields(b: Buffer, p: number, e: number, out: ByteBuf, withTime: boolean): number {
    p++;
    const o = out.buf;
    let q = out.pos;
    let n = 0;
    let timeAt = -1;
    let timeEnd = -1;
    while (p < e && isWs(b[p])) p++;
    if (p < e && b[p] === 0x7d) p++;
    else {
      for (;;) {
        // key
        if (p >= e || b[p] !== QUOTE) return FALLBACK;
        const ks = p + 1;
        if (!scanString(b, ks, e, this) || this.strEsc) return FALLBACK;
        const klen = this.strEnd - 1 - ks;
        const k0 = b[ks]!;
        if (klen === 0 || isDigit(k0) || (k0 === 0x5f && equalsAt(b, ks, klen, PROTO)) || (k0 === 0x6c && klen >= 9 && equalsAt(b, ks, 9, FILE_KEY))) return FALLBACK;
        if (n === MAX_KEYS) return FALLBACK;
        for (let i = 0; i < n; i++) if (this.keyLen[i] === klen && sameBytes(b, this.keyAt[i]!, ks, klen)) return FALLBACK;
        this.keyAt[n] = ks;
        this.keyLen[n++] = klen;
        const isTime = withTime && k0 === 0x73 && equalsAt(b, ks, klen, START_TIME);
        p = this.strEnd;
        while (p < e && isWs(b[p])) p++;
        if (p >= e || b[p] !== 0x3a) return FALLBACK;
        p++;
        while (p < e && isWs(b[p])) p++;
        // value: its AnyValue bytes go after the KeyValue header, written once their length is known
        const c = b[p];
        let anyLen: number;
        let kind: number; // 2 bool, 3 int, 4 double, 0 null or already written (a string)
        let num = 0;
        if (c === QUOTE) {
          // Copied while scanned, to where it goes if each length before it fits one byte (moved below if not).
          const kl = varintLen(klen);
          const guess = q + 7 + kl + klen;
          let w = guess;
          let i = p + 1;
          for (;;) {
            if (i >= e) return FALLBACK;
            const x = b[i]!;
            if (x === QUOTE) break;
            if (x === BACKSLASH || x < 0x20) {
              w = -1;
              break;
            }
            o[w++] = x;
            i++;
          }
          let strLen: number;
          if (w >= 0) {
            strLen = w - guess;
            p = i + 1;
          } else {
            if (isTime || !scanString(b, p + 1, e, this)) return FALLBACK;
            strLen = this.strLen;
            unescape(b, p + 1, this.strEnd - 1, o, guess);
            p = this.strEnd;
          }
          if (isTime) {
            timeAt = i - strLen;
            timeEnd = i;
          }
          anyLen = 1 + varintLen(strLen) + strLen;
          const kvLen = 1 + kl + klen + 1 + varintLen(anyLen) + anyLen;
          const at = q + 1 + varintLen(kvLen) + 1 + kl + klen + 1 + varintLen(anyLen) + 1 + varintLen(strLen);
          if (at !== guess) o.copyWithin(at, guess, guess + strLen);
          q = keyValueHead(o, q, b, ks, klen, kvLen, anyLen);
          o[q++] = AnyValueTag.string_value;
          q = putVarint(o, q, strLen);
          q += strLen;
          kind = 0;
        } else if (c === 0x74 && b[p + 1] === 0x72 && b[p + 2] === 0x75 && b[p + 3] === 0x65) {
          p += 4;
          kind = 2;
          num = 1;
          anyLen = 2;
        } else if (c === 0x66 && b[p + 1] === 0x61 && b[p + 2] === 0x6c && b[p + 3] === 0x73 && b[p + 4] === 0x65) {
          p += 5;
          kind = 2;
          anyLen = 2;
        } else if (c === 0x6e && b[p + 1] === 0x75 && b[p + 2] === 0x6c && b[p + 3] === 0x6c) {
          p += 4;
          kind = 0;
          anyLen = 0;
        } else if (c === 0x2d || isDigit(c)) {
          const ns = p;
          if (b[p] === 0x2d) p++;
          const ds = p;
          if (b[p] === 0x30) p++;
          else if (isDigit(b[p])) while (isDigit(b[p])) p++;
          else return FALLBACK;
          let plain = p - ds <= 15;
          if (b[p] === 0x2e) {
            p++;
            if (!isDigit(b[p])) return FALLBACK;
            while (isDigit(b[p])) p++;
            plain = false;
          }
          if (b[p] === 0x65 || b[p] === 0x45) {
            p++;
            if (b[p] === 0x2b || b[p] === 0x2d) p++;
            if (!isDigit(b[p])) return FALLBACK;
            while (isDigit(b[p])) p++;
            plain = false;
          }
          if (p > e) return FALLBACK;
          if (plain) {
            for (let i = ds; i < p; i++) num = num * 10 + (b[i]! - 0x30);
            if (ds !== ns) num = -num;
          } else num = Number(b.toString('latin1', ns, p));
          if (Number.isSafeInteger(num)) {
            kind = 3;
            // -0 is the integer 0 (BigInt(-0) === 0n); negatives are 10-byte two's complement varints
            anyLen = 1 + (num < 0 ? 10 : varintLen(num === 0 ? 0 : num));
          } else {
            kind = 4;
            anyLen = 9;
          }
        } else return FALLBACK;
        if (p > e) return FALLBACK;
        if (kind !== 0) {
          const kvLen = 1 + varintLen(klen) + klen + 1 + varintLen(anyLen) + anyLen;
          q = keyValueHead(o, q, b, ks, klen, kvLen, anyLen);
          if (kind === 2) {
            o[q++] = AnyValueTag.bool_value;
            o[q++] = num;
          } else if (kind === 3) {
            o[q++] = AnyValueTag.int_value;
            if (num >= 0) q = putVarint(o, q, num === 0 ? 0 : num);
            else {
              let u = BigInt.asUintN(64, BigInt(num));
              for (let i = 0; i < 9; i++, u >>= 7n) o[q++] = Number(u & 0x7fn) | 0x80;
              o[q++] = Number(u);
            }
          } else {
            o[q++] = AnyValueTag.double_value;
            o.writeDoubleLE(num, q);
            q += 8;
          }
        }
        while (p < e && isWs(b[p])) p++;
        if (p < e && b[p] === 0x2c) {
          p++;
          while (p < e && isWs(b[p])) p++;
          continue;
        }
        if (p >= e || b[p] !== 0x7d) return FALLBACK;
        p++;
        break;
      }
    }
    while (p < e && isWs(b[p])) p++;
    if (p !== e) return FALLBACK;
    this.hasTime = false;
    if (timeAt >= 0) startTimeBytes(b, timeAt, timeEnd, this);
    out.pos = q;
    return PARSED;
  }

}
