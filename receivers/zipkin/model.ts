/**
 * Zipkin v2's span model (zipkin-api's zipkin2 Span), what the JSON and the
 * proto3 decoders produce and the v2 translator consumes. Ids are lowercase
 * hex, zero-padded to 32/16 digits; times are µs as on the wire, as JS
 * numbers (exact up to 2^53 µs, the year 2255; JSON carries no more).
 * The JSON decoder hands on the parsed tags and annotations objects as they
 * are once checked, so a span costs one small object of ours.
 */
import { PermanentError } from '../../core/errors.ts';

/** Any payload we cannot decode or translate: HTTP 400, as the Collector answers. */
export class ZipkinDecodeError extends PermanentError {
  constructor(message: string) {
    super(message);
    Object.defineProperty(this, 'name', { value: 'ZipkinDecodeError', enumerable: false });
  }
}

export interface ZEndpoint {
  serviceName: string;
  /** Dotted-quad text, '' when absent. */
  ipv4: string;
  /** Canonical (compressed) IPv6 text, '' when absent. */
  ipv6: string;
  port: number;
}

export interface ZAnnotation {
  /** µs, ≥ 1. */
  timestamp: number;
  value: string;
}

/** Tag values by key (wire order; a repeated key keeps the last value). */
export type ZTags = Record<string, string>;

export interface ZSpan {
  traceId: string;
  id: string;
  /** '' when absent. */
  parentId: string;
  name: string;
  /** CLIENT, SERVER, PRODUCER, CONSUMER, or anything else (unspecified). */
  kind: string;
  /** µs; 0 when absent. */
  timestamp: number;
  /** µs. */
  duration: number;
  localEndpoint: ZEndpoint | null;
  remoteEndpoint: ZEndpoint | null;
  annotations: ZAnnotation[];
  tags: ZTags;
  /**
   * A JSON span without a timestamp is translated with start 0 and the
   * `otel.zipkin.absentField.startTime` attribute; the Collector's proto path
   * does not add the attribute (it cannot tell absent from 0).
   */
  flagAbsentStart: boolean;
}

/** All '0' digits (or empty): an id that is absent. */
export function isZeroId(id: string): boolean {
  for (let i = 0; i < id.length; i++) if (id.charCodeAt(i) !== 48) return false;
  return true;
}

export function endpointIsEmpty(e: ZEndpoint): boolean {
  return e.serviceName === '' && e.ipv4 === '' && e.ipv6 === '' && e.port === 0;
}

/** net.IP.String() for a 4- or 16-byte address (IPv4-mapped IPv6 prints as IPv4, as in Go). */
export function ipString(b: Uint8Array): string {
  if (b.length === 4) return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
  if (b.length === 16) {
    const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
    if (mapped) return `${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
    const groups: string[] = [];
    for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
    return new URL(`http://[${groups.join(':')}]/`).hostname.slice(1, -1);
  }
  return '';
}

// A service reports from a handful of addresses: remember recent answers.
const ipCache = new Map<string, string | undefined>();

/** Parses textual IPv4/IPv6 into Go's canonical text; undefined when invalid. */
export function canonicalIp(text: string): string | undefined {
  if (ipCache.has(text)) return ipCache.get(text);
  const c = parseIp(text);
  if (ipCache.size >= 4096) ipCache.clear();
  ipCache.set(text, c);
  return c;
}

function parseIp(text: string): string | undefined {
  if (/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) {
    const parts = text.split('.').map(Number);
    return parts.every((p) => p <= 255) ? parts.join('.') : undefined;
  }
  if (!text.includes(':')) return undefined;
  try {
    const host = new URL(`http://[${text}]/`).hostname.slice(1, -1);
    const m = /^::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})$/.exec(host);
    if (m) {
      const hi = parseInt(m[1]!, 16);
      const lo = parseInt(m[2]!, 16);
      return `${hi >> 8}.${hi & 0xff}.${lo >> 8}.${lo & 0xff}`;
    }
    return host;
  } catch {
    return undefined;
  }
}
