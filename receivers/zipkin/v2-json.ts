/**
 * Zipkin v2 JSON (`POST /api/v2/spans`, a JSON array of spans) → ZSpan[],
 * with the checks zipkin-go's model applies when the Collector unmarshals it:
 * a span needs a non-zero trace id (≤ 32 hex digits) and id (≤ 16); shorter
 * ids are left-padded; times are non-negative integer µs; an annotation needs
 * a timestamp; tag values must be strings; an all-empty endpoint is absent.
 * Any violation rejects the whole request (HTTP 400), as the Collector does.
 */
import { ZipkinDecodeError, canonicalIp, endpointIsEmpty, isZeroId, type ZAnnotation, type ZEndpoint, type ZSpan, type ZTags } from './model.ts';

const HEX = /^[0-9a-fA-F]+$/;

export function hexId(v: unknown, digits: 16 | 32, what: string): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > digits || !HEX.test(v)) {
    throw new ZipkinDecodeError(`${what}: expected 1 to ${digits} hex digits, got ${JSON.stringify(v)}`);
  }
  return v.toLowerCase().padStart(digits, '0');
}

function micros(v: unknown, what: string): number {
  if (v === undefined || v === null) return 0;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    throw new ZipkinDecodeError(`${what}: expected a non-negative integer of microseconds, got ${JSON.stringify(v)}`);
  }
  return v;
}

function str(v: unknown, what: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new ZipkinDecodeError(`${what}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

function ip(v: unknown, what: string): string {
  const s = str(v, what);
  if (s === '') return '';
  const c = canonicalIp(s);
  if (c === undefined) throw new ZipkinDecodeError(`${what}: invalid IP address ${JSON.stringify(s)}`);
  return c;
}

function endpoint(v: unknown, what: string): ZEndpoint | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new ZipkinDecodeError(`${what}: expected an object`);
  const o = v as Record<string, unknown>;
  const port = o.port ?? 0;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ZipkinDecodeError(`${what}.port: expected 0-65535, got ${JSON.stringify(o.port)}`);
  }
  const e: ZEndpoint = {
    serviceName: str(o.serviceName, `${what}.serviceName`),
    ipv4: ip(o.ipv4, `${what}.ipv4`),
    ipv6: ip(o.ipv6, `${what}.ipv6`),
    port,
  };
  return endpointIsEmpty(e) ? null : e;
}

/** The parsed list itself once every entry is checked (a missing value becomes ''). */
function annotations(v: unknown, what: string): ZAnnotation[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ZipkinDecodeError(`${what}: expected a list`);
  for (let i = 0; i < v.length; i++) {
    const a: unknown = v[i];
    if (typeof a !== 'object' || a === null) throw new ZipkinDecodeError(`${what}[${i}]: expected an object`);
    const o = a as Record<string, unknown>;
    const ts = micros(o.timestamp, `${what}[${i}].timestamp`);
    if (ts < 1) throw new ZipkinDecodeError(`${what}[${i}]: valid annotation timestamp required`);
    if (typeof o.value !== 'string') o.value = str(o.value, `${what}[${i}].value`);
  }
  return v as ZAnnotation[];
}

const NO_TAGS: ZTags = Object.freeze(Object.create(null) as ZTags);

/** The parsed object itself once every value is checked to be a string. */
function tags(v: unknown, what: string): ZTags {
  if (v === undefined || v === null) return NO_TAGS;
  if (typeof v !== 'object' || Array.isArray(v)) throw new ZipkinDecodeError(`${what}: expected an object of strings`);
  const o = v as Record<string, unknown>;
  for (const k in o) {
    if (typeof o[k] !== 'string') throw new ZipkinDecodeError(`${what}.${k}: tag values must be strings, got ${JSON.stringify(o[k])}`);
  }
  return o as ZTags;
}

function span(v: unknown, i: number): ZSpan | null {
  if (v === null) return null; // Go unmarshals null to a nil span, which the translator skips
  const at = `span ${i}`;
  if (typeof v !== 'object' || Array.isArray(v)) throw new ZipkinDecodeError(`${at}: expected an object`);
  const o = v as Record<string, unknown>;
  const traceId = hexId(o.traceId, 32, `${at}: traceId`);
  if (isZeroId(traceId)) throw new ZipkinDecodeError(`${at}: valid traceId required`);
  const id = hexId(o.id, 16, `${at}: id`);
  if (isZeroId(id)) throw new ZipkinDecodeError(`${at}: valid span id required`);
  const p = o.parentId;
  const parentId = p === undefined || p === null || p === '' ? '' : hexId(p, 16, `${at}: parentId`);
  const timestamp = micros(o.timestamp, `${at}: timestamp`);
  return {
    traceId,
    id,
    parentId: isZeroId(parentId) ? '' : parentId,
    name: str(o.name, `${at}: name`),
    kind: str(o.kind, `${at}: kind`),
    timestamp,
    duration: micros(o.duration, `${at}: duration`),
    localEndpoint: endpoint(o.localEndpoint, `${at}: localEndpoint`),
    remoteEndpoint: endpoint(o.remoteEndpoint, `${at}: remoteEndpoint`),
    annotations: annotations(o.annotations, `${at}: annotations`),
    tags: tags(o.tags, `${at}: tags`),
    flagAbsentStart: timestamp === 0,
  };
}

export function decodeV2Json(body: Buffer): ZSpan[] {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new ZipkinDecodeError(`invalid JSON: ${(err as Error).message}`);
  }
  if (doc === null) return [];
  if (!Array.isArray(doc)) throw new ZipkinDecodeError('expected a JSON array of zipkin v2 spans');
  const out: ZSpan[] = [];
  for (let i = 0; i < doc.length; i++) {
    const s = span(doc[i], i);
    if (s) out.push(s);
  }
  return out;
}
