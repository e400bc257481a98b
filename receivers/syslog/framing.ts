/**
 * Syslog over a byte stream (RFC 6587): octet counting (`LEN SP MSG`, what
 * RFC 5425 TLS senders, syslog-ng's syslog() and rsyslog's
 * `TCP_Framing="octet-counted"` use) or non-transparent framing (each
 * message ends with a trailer, LF or NUL).
 *
 * Bounded: a message longer than the limit is skipped whole, without
 * holding it (octet counting knows its length; non-transparent framing
 * drops bytes up to the next trailer), and counted. A length that is not a
 * number cannot be skipped (the stream is out of step): `error` is set and
 * the connection is closed.
 */

export interface Frames {
  lines: string[];
  oversized: number;
  /** Set when the stream cannot be read on: close the connection with this reason. */
  error?: string;
}

const LF = 0x0a;
const CR = 0x0d;
const SP = 0x20;

export class Framer {
  private pending: Buffer | undefined;
  /** Bytes of an oversized octet-counted message still to skip. */
  private skip = 0;
  /** Dropping a non-transparent message that grew past the limit, up to its trailer. */
  private dropping = false;

  constructor(
    private readonly octetCounting: boolean,
    private readonly trailer: number,
    private readonly maxSize: number,
  ) {}

  /** True while part of a message is held (a sender that stops here is half-open). */
  get partial(): boolean {
    return this.pending !== undefined || this.skip > 0 || this.dropping;
  }

  push(chunk: Buffer): Frames {
    const out: Frames = { lines: [], oversized: 0 };
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    if (this.skip > 0) {
      const n = Math.min(this.skip, buf.length);
      this.skip -= n;
      buf = buf.subarray(n);
    }
    if (this.octetCounting) this.counted(buf, out);
    else this.trailed(buf, out);
    return out;
  }

  private counted(buf: Buffer, out: Frames): void {
    let i = 0;
    while (i < buf.length) {
      const c = buf[i]!;
      // Tolerate a trailer some senders add after an octet-counted message.
      if (c === LF || c === CR || c === 0) {
        i++;
        continue;
      }
      let j = i;
      let len = 0;
      while (j < buf.length && j - i < 10) {
        const d = buf[j]!;
        if (d < 48 || d > 57) break;
        len = len * 10 + (d - 48);
        j++;
      }
      if (j === buf.length) break; // the length itself is not all here yet
      if (j === i || buf[j] !== SP || buf[i] === 48) {
        out.error = `octet counting expected "LENGTH SP MESSAGE", got ${JSON.stringify(buf.subarray(i, Math.min(i + 16, buf.length)).toString('latin1'))}`;
        return;
      }
      const start = j + 1;
      if (len > this.maxSize) {
        out.oversized++;
        const have = Math.min(len, buf.length - start);
        this.skip = len - have;
        i = start + have;
        continue;
      }
      if (start + len > buf.length) break;
      out.lines.push(buf.toString('utf8', start, start + len));
      i = start + len;
    }
    if (i < buf.length) this.pending = Buffer.from(buf.subarray(i));
  }

  private trailed(buf: Buffer, out: Frames): void {
    let i = 0;
    for (;;) {
      const end = buf.indexOf(this.trailer, i);
      if (end < 0) break;
      if (this.dropping) this.dropping = false;
      else if (end - i > this.maxSize) out.oversized++;
      else {
        let e = end;
        if (e > i && buf[e - 1] === CR) e--;
        if (e > i) out.lines.push(buf.toString('utf8', i, e));
      }
      i = end + 1;
    }
    if (i >= buf.length) return;
    if (this.dropping) return;
    if (buf.length - i > this.maxSize) {
      out.oversized++;
      this.dropping = true;
      return;
    }
    this.pending = Buffer.from(buf.subarray(i));
  }
}
