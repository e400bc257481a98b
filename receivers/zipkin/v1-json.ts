/**
 * Zipkin v1 JSON (`POST /api/v1/spans`) → V1Span[], with the Collector's
 * zipkinv1 checks: traceId of exactly 16 or 32 hex digits, id (and parentId
 * when present) of exactly 16, none of them all zeros. Binary annotation
 * values are strings; booleans and numbers (zipkin-js writes `"sa": true`)
 * are accepted as their text, where the Collector rejects the request.
 */
import type { AnyValue } from '../../core/model.ts';
import { ZipkinDecodeError } from './model.ts';
import { parseTag } from './v2-translate.ts';
import type { V1Annotation, V1BinaryAnnotation, V1Endpoint, V1Span } from './v1-translate.ts';

const HEX = /^[0-9a-fA-F]+$/;

function id(v: unknown, lengths: readonly number[], what: string): string {
  if (typeof v !== 'string' || !lengths.includes(v.length) || !HEX.test(v)) {
    throw new ZipkinDecodeError(`zipkinV1 span ${what}: hex id has wrong length or characters (expected ${lengths.join(' or ')} hex digits), got ${JSON.stringify(v)}`);
  }
  if (/^0+$/.test(v)) throw new ZipkinDecodeError(`zipkinV1 span ${what}: id is zero`);
  return v.toLowerCase().padStart(lengths.length > 1 ? 32 : 16, '0');
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/** An int64, as the Collector's zipkinv1 model reads it (a larger number is a 400 there too). */
function int(v: unknown, what: string): bigint {
  if (v === undefined || v === null) return 0n;
  if (typeof v !== 'number' || !Number.isInteger(v)) throw new ZipkinDecodeError(`zipkinv1: ${what}: expected an integer, got ${JSON.stringify(v)}`);
  const n = BigInt(v);
  if (n < INT64_MIN || n > INT64_MAX) throw new ZipkinDecodeError(`zipkinv1: ${what}: ${JSON.stringify(v)} is out of range for int64`);
  return n;
}

function str(v: unknown, what: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new ZipkinDecodeError(`zipkinv1: ${what}: expected a string, got ${JSON.stringify(v)}`);
  return v;
}

function endpoint(v: unknown, what: string): V1Endpoint | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object' || Array.isArray(v)) throw new ZipkinDecodeError(`zipkinv1: ${what}: expected an object`);
  const o = v as Record<string, unknown>;
  return {
    serviceName: str(o.serviceName, `${what}.serviceName`),
    ipv4: str(o.ipv4, `${what}.ipv4`),
    ipv6: str(o.ipv6, `${what}.ipv6`),
    port: Number(int(o.port, `${what}.port`)),
  };
}

function list(v: unknown, what: string): unknown[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v)) throw new ZipkinDecodeError(`zipkinv1: ${what}: expected a list`);
  return v;
}

function obj(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ZipkinDecodeError(`zipkinv1: ${what}: expected an object`);
  return v as Record<string, unknown>;
}

export function decodeV1Json(body: Buffer, parseStringTags: boolean): V1Span[] {
  let doc: unknown;
  try {
    doc = JSON.parse(body.toString('utf8'));
  } catch (err) {
    throw new ZipkinDecodeError(`zipkinv1: invalid JSON: ${(err as Error).message}`);
  }
  return list(doc, 'body').map((raw, i): V1Span => {
    const o = obj(raw, `span ${i}`);
    const annotations = list(o.annotations, `span ${i}.annotations`).map((a, j): V1Annotation => {
      const ao = obj(a, `span ${i}.annotations[${j}]`);
      return {
        timestampUs: int(ao.timestamp, `span ${i}.annotations[${j}].timestamp`),
        value: str(ao.value, `span ${i}.annotations[${j}].value`),
        endpoint: endpoint(ao.endpoint, `span ${i}.annotations[${j}].endpoint`),
      };
    });
    const binaryAnnotations = list(o.binaryAnnotations, `span ${i}.binaryAnnotations`).map((b, j): V1BinaryAnnotation => {
      const bo = obj(b, `span ${i}.binaryAnnotations[${j}]`);
      const rawValue = bo.value;
      let text: string;
      if (typeof rawValue === 'boolean' || typeof rawValue === 'number') text = String(rawValue);
      else text = str(rawValue, `span ${i}.binaryAnnotations[${j}].value`);
      const value: AnyValue = parseStringTags ? parseTag(text) : text;
      return { key: str(bo.key, `span ${i}.binaryAnnotations[${j}].key`), value, text, endpoint: endpoint(bo.endpoint, `span ${i}.binaryAnnotations[${j}].endpoint`) };
    });
    const ts = int(o.timestamp, `span ${i}.timestamp`);
    const parent = str(o.parentId, `span ${i}.parentId`);
    return {
      traceId: id(o.traceId, [16, 32], 'traceId'),
      id: id(o.id, [16], 'id'),
      parentId: parent === '' ? '' : id(parent, [16], 'parentId'),
      name: str(o.name, `span ${i}.name`),
      timestampUs: ts === 0n ? undefined : ts,
      durationUs: int(o.duration, `span ${i}.duration`),
      annotations,
      binaryAnnotations,
      hostNamesServiceOnlyIfNamed: true,
      defaultStartToNow: true,
    };
  });
}
