/**
 * Envoy's START_TIME read from a line's bytes, as the same nanoseconds
 * operators.ts startTimeNanos gives for the string (Date.parse for the
 * milliseconds, digits 4 to 9 of the fraction for the rest), without a
 * string or bigint for the form Envoy writes (`2024-05-14T09:12:03.456Z`,
 * 1 to 9 fraction digits); anything else goes through startTimeNanos itself.
 */
import { startTimeNanos } from './operators.ts';

export interface TimeOut {
  hasTime: boolean;
  /** The time as two 32-bit halves of the unsigned 64-bit nanoseconds (mod 2^64, as the wire writer stores it). */
  timeLo: number;
  timeHi: number;
}

const TWO32 = 0x100000000;

function digits(b: Buffer, p: number, n: number): number {
  let v = 0;
  for (let i = 0; i < n; i++) {
    const d = b[p + i]! - 0x30;
    if (d < 0 || d > 9) return -1;
    v = v * 10 + d;
  }
  return v;
}

/** Envoy's form only, years 1970 on; -1 otherwise. Sets `sub` (nanoseconds below the millisecond). */
function fast(b: Buffer, s: number, e: number, out: { sub: number }): number {
  const n = e - s;
  if (n < 20 || n > 30 || b[s + 4] !== 0x2d || b[s + 7] !== 0x2d || b[s + 10] !== 0x54 || b[s + 13] !== 0x3a || b[s + 16] !== 0x3a || b[e - 1] !== 0x5a) return -1;
  const y = digits(b, s, 4);
  const mo = digits(b, s + 5, 2);
  const d = digits(b, s + 8, 2);
  const h = digits(b, s + 11, 2);
  const mi = digits(b, s + 14, 2);
  const sec = digits(b, s + 17, 2);
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return -1;
  let ms = 0;
  out.sub = 0;
  if (n > 20) {
    const fd = n - 21; // fraction digits
    if (b[s + 19] !== 0x2e || fd < 1 || fd > 9) return -1;
    const f = digits(b, s + 20, fd);
    if (f < 0) return -1;
    const f9 = f * 10 ** (9 - fd);
    ms = Math.floor(f9 / 1e6);
    // startTimeNanos adds digits 4 to 9 only when there are at least 4
    if (fd >= 4) out.sub = f9 - ms * 1e6;
  }
  return (((daysFromCivil(y, mo, d) * 24 + h) * 60 + mi) * 60 + sec) * 1000 + ms;
}

/** Days since 1970-01-01 of a proleptic Gregorian date (a day past the month's end rolls over, as Date.parse does). */
function daysFromCivil(y: number, m: number, d: number): number {
  if (m <= 2) y--;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (m > 2 ? m - 3 : m + 9) + 2) / 5) + d - 1;
  return era * 146097 + yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy - 719468;
}

const sub = { sub: 0 };

/** Sets out.hasTime / timeLo / timeHi from the START_TIME string b[s, e) (raw bytes, no escapes). */
export function startTimeBytes(b: Buffer, s: number, e: number, out: TimeOut): void {
  const ms = fast(b, s, e, sub);
  if (ms >= 0) {
    const hi = Math.floor(ms / TWO32);
    const x = (ms - hi * TWO32) * 1e6 + sub.sub; // < 2^53: exact
    const carry = Math.floor(x / TWO32);
    out.timeLo = x - carry * TWO32;
    out.timeHi = (hi * 1e6 + carry) % TWO32;
    out.hasTime = out.timeLo !== 0 || out.timeHi !== 0;
    return;
  }
  const t = BigInt.asUintN(64, startTimeNanos(b.toString('utf8', s, e)));
  out.hasTime = t !== 0n;
  out.timeLo = Number(t & 0xffffffffn);
  out.timeHi = Number(t >> 32n);
}
