/**
 * Wall-clock time in an IANA zone → UTC, with Node's own zone data (Intl),
 * for RFC 3164 timestamps. The zone's offset is cached per hour of local
 * time, so a line costs a Map lookup, not a formatter call.
 */

const formatters = new Map<string, Intl.DateTimeFormat>();

/** Throws RangeError for a zone Node does not know. */
export function checkZone(zone: string): void {
  formatter(zone);
}

function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone: zone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(zone, f);
  }
  return f;
}

/** The zone's offset from UTC (ms) at UTC instant `utcMs`. */
function offsetAt(zone: string, utcMs: number): number {
  const parts = formatter(zone).formatToParts(new Date(utcMs));
  const get = (t: string) => Number(parts.find((p) => p.type === t)!.value);
  const local = Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second'));
  return local - Math.floor(utcMs / 1000) * 1000;
}

const cache = new Map<string, number>();
const CACHE_MAX = 10_000;

export function localToUtcMs(year: number, month: number, day: number, h: number, mi: number, s: number, zone: string): number {
  const local = Date.UTC(year, month, day, h, mi, s);
  if (zone === 'UTC' || zone === 'Etc/UTC') return local;
  const key = `${zone}|${Math.floor(local / 3_600_000)}`;
  let off = cache.get(key);
  if (off === undefined) {
    // Two steps find the offset in force at the local time (also across a DST change).
    off = offsetAt(zone, local);
    off = offsetAt(zone, local - off);
    if (cache.size >= CACHE_MAX) cache.clear();
    cache.set(key, off);
  }
  return local - off;
}
