/**
 * Syslog lines (RFC 5424 and RFC 3164) read as OTLP log records, with the
 * attributes the Collector's syslog parser sets: `priority`, `facility`,
 * `version` (5424), `hostname`, `appname`, `proc_id`, `msg_id` (5424),
 * `structured_data` (5424, a map of SD-ID → map of params); absent (`-`)
 * fields are left out. Severity comes from the PRI's low three bits, mapped
 * as the Collector maps it (emerg → FATAL … debug → DEBUG).
 *
 * Where we differ: the body is the MSG part, not the whole line (the
 * Collector keeps the raw line as the body and MSG in the attribute
 * `message`), so an access-log line sent through syslog reaches `audit` the
 * way it would over OTLP; we do not repeat it as `message`. The MSG is
 * trimmed: rsyslog's templates put the space after `tag:` and a newline
 * inside the message, which would hide an access-log line from `audit`.
 *
 * A line that does not parse is returned as undefined; the receiver keeps
 * it as a record whose body is the raw line (the Collector's `on_error:
 * send`) and counts it.
 */
import { KvList, type AnyValue, type KeyValue, type LogRecord } from '../../core/model.ts';
import { localToUtcMs } from './timezone.ts';

export type SyslogProtocol = 'rfc5424' | 'rfc3164';

export interface ParseOptions {
  protocol: SyslogProtocol;
  /** IANA zone for RFC 3164 timestamps (they carry none). */
  location: string;
  allowSkipPri: boolean;
}

// OTel SeverityNumber per syslog severity 0..7, and the Collector's text.
const SEVERITY_NUMBER = [21, 19, 18, 17, 13, 10, 9, 5];
const SEVERITY_TEXT = ['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'];

function record(line: string, observed: bigint): LogRecord {
  return {
    timeUnixNano: 0n,
    observedTimeUnixNano: observed,
    severityNumber: 0,
    severityText: '',
    body: line,
    attributes: [],
    droppedAttributesCount: 0,
    flags: 0,
    traceId: '',
    spanId: '',
    eventName: '',
  };
}

/** Reads `<PRI>`; returns the index after it, or -1. Sets severity and the priority/facility attributes. */
function readPri(line: string, r: LogRecord, allowSkip: boolean): number {
  if (line.charCodeAt(0) !== 60 /* < */) return allowSkip ? 0 : -1;
  let i = 1;
  let pri = 0;
  while (i < line.length && i <= 4) {
    const c = line.charCodeAt(i);
    if (c === 62 /* > */) break;
    if (c < 48 || c > 57) return -1;
    pri = pri * 10 + (c - 48);
    i++;
  }
  if (i === 1 || line.charCodeAt(i) !== 62 || pri > 191) return -1;
  const sev = pri & 7;
  r.severityNumber = SEVERITY_NUMBER[sev]!;
  r.severityText = SEVERITY_TEXT[sev]!;
  r.attributes.push({ key: 'priority', value: BigInt(pri) }, { key: 'facility', value: BigInt(pri >> 3) });
  return i + 1;
}

export function parseSyslog(line: string, o: ParseOptions, observed: bigint): LogRecord | undefined {
  const r = record(line, observed);
  const at = readPri(line, r, o.allowSkipPri);
  if (at < 0) return undefined;
  return (o.protocol === 'rfc5424' ? parse5424(line, at, r) : parse3164(line, at, r, o.location)) ? r : undefined;
}

// ------------------------------------------------------------------ RFC 5424

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/;

/** RFC 3339 → ns since the epoch; undefined if malformed. */
export function rfc3339Nanos(s: string): bigint | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const ms = Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!);
  if (Number.isNaN(ms) || +m[2]! > 12 || +m[3]! > 31 || +m[4]! > 23 || +m[5]! > 59 || +m[6]! > 60) return undefined;
  let off = 0;
  if (m[8] !== 'Z') off = (m[8]![0] === '-' ? -1 : 1) * (+m[8]!.slice(1, 3) * 60 + +m[8]!.slice(4, 6));
  const frac = m[7] ? BigInt(m[7].padEnd(9, '0')) : 0n;
  return BigInt(ms - off * 60_000) * 1_000_000n + frac;
}

function field(line: string, at: number): [string, number] {
  const sp = line.indexOf(' ', at);
  return sp < 0 ? [line.slice(at), line.length] : [line.slice(at, sp), sp + 1];
}

function parse5424(line: string, at: number, r: LogRecord): boolean {
  const attrs = r.attributes;
  let v: string;
  [v, at] = field(line, at);
  if (!/^[1-9]\d{0,2}$/.test(v)) return false;
  attrs.push({ key: 'version', value: BigInt(v) });
  [v, at] = field(line, at);
  if (v !== '-') {
    const t = rfc3339Nanos(v);
    if (t === undefined) return false;
    r.timeUnixNano = t;
  }
  const names = ['hostname', 'appname', 'proc_id', 'msg_id'];
  for (const name of names) {
    [v, at] = field(line, at);
    if (!v) return false;
    if (v !== '-') attrs.push({ key: name, value: v });
  }
  if (at >= line.length) return false;
  if (line[at] === '-') at++;
  else {
    const sd = readStructuredData(line, at);
    if (!sd) return false;
    attrs.push({ key: 'structured_data', value: sd.value });
    at = sd.end;
  }
  if (at < line.length) {
    if (line[at] !== ' ') return false;
    at++;
  }
  let msg = line.slice(at);
  if (msg.charCodeAt(0) === 0xfeff) msg = msg.slice(1); // the BOM RFC 5424 puts before UTF-8 MSG
  r.body = msg.trim();
  return true;
}

/** `[id k="v" ...][id2 ...]` from `at`; params' values unescape \" \\ \]. */
function readStructuredData(line: string, at: number): { value: KvList; end: number } | undefined {
  const elements: KeyValue[] = [];
  while (line[at] === '[') {
    let i = at + 1;
    const idEnd = nameEnd(line, i);
    if (idEnd === i) return undefined;
    const id = line.slice(i, idEnd);
    i = idEnd;
    const params: KeyValue[] = [];
    while (line[i] === ' ') {
      i++;
      const ne = nameEnd(line, i);
      if (ne === i || line[ne] !== '=' || line[ne + 1] !== '"') return undefined;
      const name = line.slice(i, ne);
      i = ne + 2;
      let val = '';
      for (;;) {
        if (i >= line.length) return undefined;
        const c = line[i]!;
        if (c === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\' || line[i + 1] === ']')) {
          val += line[i + 1];
          i += 2;
        } else if (c === '"') {
          i++;
          break;
        } else {
          val += c;
          i++;
        }
      }
      params.push({ key: name, value: val });
    }
    if (line[i] !== ']') return undefined;
    elements.push({ key: id, value: new KvList(params) as AnyValue });
    at = i + 1;
  }
  return elements.length ? { value: new KvList(elements), end: at } : undefined;
}

/** SD-NAME: printable US-ASCII except '=', ' ', ']', '"'. */
function nameEnd(line: string, i: number): number {
  while (i < line.length) {
    const c = line.charCodeAt(i);
    if (c <= 32 || c >= 127 || c === 61 || c === 93 || c === 34) break;
    i++;
  }
  return i;
}

// ------------------------------------------------------------------ RFC 3164

const MONTHS: Record<string, number> = { Jan: 0, Feb: 1, Mar: 2, Apr: 3, May: 4, Jun: 5, Jul: 6, Aug: 7, Sep: 8, Oct: 9, Nov: 10, Dec: 11 };
const BSD_TIME = /^([A-Z][a-z]{2}) ([ \d]\d) (\d{2}):(\d{2}):(\d{2}) /;

function parse3164(line: string, at: number, r: LogRecord, location: string): boolean {
  const rest = line.slice(at);
  let after: number;
  const m = BSD_TIME.exec(rest);
  if (m) {
    const month = MONTHS[m[1]!];
    const day = Number(m[2]!.trim());
    if (month === undefined || day < 1 || day > 31) return false;
    r.timeUnixNano = BigInt(bsdTimeMs(month, day, +m[3]!, +m[4]!, +m[5]!, location)) * 1_000_000n;
    after = at + m[0].length;
  } else {
    // rsyslog's RSYSLOG_ForwardFormat writes an RFC 3339 time here.
    const [ts, next] = field(line, at);
    const t = rfc3339Nanos(ts);
    if (t === undefined) return false;
    r.timeUnixNano = t;
    after = next;
  }
  const [host, afterHost] = field(line, after);
  after = afterHost;
  if (!host) return false;
  r.attributes.push({ key: 'hostname', value: host });
  // TAG[PID]: MSG — the tag is optional; without "tag:" the rest is the message.
  const tm = /^([^\s[\]:]{1,48})(?:\[([^\]]{1,128})\])?: ?/.exec(line.slice(after));
  if (tm) {
    r.attributes.push({ key: 'appname', value: tm[1]! });
    if (tm[2] !== undefined) r.attributes.push({ key: 'proc_id', value: tm[2] });
    after += tm[0].length;
  }
  r.body = line.slice(after).trim();
  return true;
}

/**
 * A BSD timestamp (no year, no zone) in `location`: this year, or last year
 * when that would put it more than a day in the future (December lines read
 * in January).
 */
function bsdTimeMs(month: number, day: number, h: number, mi: number, s: number, location: string): number {
  const now = Date.now();
  const year = new Date(now).getUTCFullYear();
  let t = localToUtcMs(year, month, day, h, mi, s, location);
  if (t > now + 86_400_000) t = localToUtcMs(year - 1, month, day, h, mi, s, location);
  return t;
}
