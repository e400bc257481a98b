/**
 * Indexing spans, enriching log records, and the per-trace summary
 * contributions of a payload.
 *
 * Enrichment attributes (stable names, set on log records whose span is
 * known):
 *   trailhouse.span.name         the span's name
 *   trailhouse.span.kind         Server, Client, Internal, Producer, Consumer, Unspecified
 *   trailhouse.span.service      the span's resource service.name
 *   trailhouse.span.status       Unset, Ok, Error
 *   trailhouse.span.duration_ns  int, end - start
 *   trailhouse.linked_by         `x-request-id` when correlate set the record's trace/span id
 */
import type { KeyValue, LogPatch } from '../../core/model.ts';
import { bytesOf, nativeBlock, Offsets, Sink, type NativeBlock } from '../../lib/clickhouse/index.ts';
import { NO_START } from './schema.ts';
import type { SpanContext } from './trace-index.ts';

export const ATTR = {
  name: 'trailhouse.span.name',
  kind: 'trailhouse.span.kind',
  service: 'trailhouse.span.service',
  status: 'trailhouse.span.status',
  duration: 'trailhouse.span.duration_ns',
  linkedBy: 'trailhouse.linked_by',
} as const;

const KIND_NAMES = ['Unspecified', 'Internal', 'Server', 'Client', 'Producer', 'Consumer'];
const STATUS_NAMES = ['Unset', 'Ok', 'Error'];

/** The attributes enrichment sets on a record of `span`, in order (and `linked_by` when it linked the record). */
export function contextAttributes(span: SpanContext, linked: boolean): KeyValue[] {
  const attrs: KeyValue[] = [
    { key: ATTR.name, value: span.name },
    { key: ATTR.kind, value: KIND_NAMES[span.kind] ?? 'Unspecified' },
    { key: ATTR.service, value: span.service },
    { key: ATTR.status, value: STATUS_NAMES[span.status] ?? 'Unset' },
    { key: ATTR.duration, value: BigInt(span.durationNs) },
  ];
  if (linked) attrs.push({ key: ATTR.linkedBy, value: 'x-request-id' });
  return attrs;
}

/**
 * Enrichment of a record not built yet (core/payload.ts Payload.patch): the span
 * it belongs to, and the ids when it was linked by request id. One small
 * object per record while the payload waits to be stored; the attributes
 * are made when the exporter or a stage reads them.
 */
const CONTEXT_KEYS: readonly string[] = [ATTR.name, ATTR.kind, ATTR.service, ATTR.status, ATTR.duration];
const LINKED_KEYS: readonly string[] = [...CONTEXT_KEYS, ATTR.linkedBy];

export class ContextPatch implements LogPatch {
  readonly traceId: string | undefined;
  readonly spanId: string | undefined;
  private attrs: KeyValue[] | undefined;

  get keys(): readonly string[] {
    return this.traceId === undefined ? CONTEXT_KEYS : LINKED_KEYS;
  }

  constructor(
    private readonly span: SpanContext,
    linkedTraceId?: string,
  ) {
    this.traceId = linkedTraceId;
    this.spanId = linkedTraceId === undefined ? undefined : span.spanId;
  }

  get attributes(): KeyValue[] {
    return (this.attrs ??= contextAttributes(this.span, this.traceId !== undefined));
  }
}

export interface EnrichCounts {
  enriched: number;
  linked: number;
}

/** One trace's contribution to trace_summary from the payloads of one flush. */
export interface SummaryPart {
  startNs: bigint;
  endNs: bigint;
  rootService: string;
  rootName: string;
  rootStartNs: bigint;
  spanIds: string[];
  errorSpanIds: string[];
  /** Distinct, in first-seen order (an array: a trace has a few). */
  services: string[];
  logIds: number[];
}

// Shared empty containers of a new summary (most stay empty: a trace's logs
// have no span ids, its spans no log ids, few spans are errors); the first
// addition gives the part its own (addSpanId, addLogId).
const NO_IDS: string[] = [];
const NO_KEYS: number[] = [];
const NO_SERVICES: string[] = [];

/** The summary of `traceId` in `parts`, added empty if new. */
export function summaryPart(parts: Map<string, SummaryPart>, traceId: string): SummaryPart {
  let p = parts.get(traceId);
  if (!p) {
    p = { startNs: 0n, endNs: 0n, rootService: '', rootName: '', rootStartNs: 0n, spanIds: NO_IDS, errorSpanIds: NO_IDS, services: NO_SERVICES, logIds: NO_KEYS };
    parts.set(traceId, p);
  }
  return p;
}

/** A span of the trace: its id (and as an error span when its status is Error), its service. */
export function addSpanId(p: SummaryPart, spanId: string, error: boolean, service: string): void {
  if (p.spanIds === NO_IDS) p.spanIds = [];
  p.spanIds.push(spanId);
  if (error) {
    if (p.errorSpanIds === NO_IDS) p.errorSpanIds = [];
    p.errorSpanIds.push(spanId);
  }
  if (service) {
    if (p.services === NO_SERVICES) p.services = [service];
    else if (!p.services.includes(service)) p.services.push(service);
  }
}

/** A log record of the trace, by its logKey. */
export function addLogId(p: SummaryPart, key: number): void {
  if (p.logIds === NO_KEYS) p.logIds = [];
  p.logIds.push(key);
}

/**
 * A log record's identity for counting (53 bits, a JSON-safe integer): a
 * redelivered record gets the same key. FNV-1a over time, span id and up to
 * 256 characters of the body, and the body length and attribute count; two
 * different records of one trace collide with odds of about 1 in 4e9. Made
 * from the bytes by peek.ts (logKeyHead, logKeyBody, logKeyEnd); the decoded
 * form is testdata/decoded.ts logKey.
 */
/** logKey's hash over the time (its 32-bit halves) and the span id. */
export function logKeyHead(lo: number, hi: number, spanId: string): number {
  let h = 0x811c9dc5;
  h = Math.imul(h ^ lo, 0x01000193);
  h = Math.imul(h ^ hi, 0x01000193);
  for (let i = 0; i < spanId.length; i++) h = Math.imul(h ^ spanId.charCodeAt(i), 0x01000193);
  return h;
}

/** logKey's hash continued over up to 256 characters of the body. */
export function logKeyBody(h: number, body: string): number {
  const n = Math.min(body.length, 256);
  for (let i = 0; i < n; i++) h = Math.imul(h ^ body.charCodeAt(i), 0x01000193);
  return h;
}

/** The key from the hash, the body's length (UTF-16 units) and the record's attribute count. */
export function logKeyEnd(h: number, bodyLength: number, attributes: number): number {
  return (h >>> 0) * 0x200000 + ((bodyLength * 31 + attributes) & 0x1fffff);
}

/** trace_summary_parts rows (JSONEachRow), one per trace. */
export function summaryRows(parts: Iterable<[string, SummaryPart]>): string[] {
  const rows: string[] = [];
  for (const [traceId, p] of parts) {
    const root = p.rootName || p.rootService ? `[${p.rootStartNs},${JSON.stringify(p.rootService)},${JSON.stringify(p.rootName)}]` : `[${NO_START},"",""]`;
    rows.push(
      `{"TraceId":${JSON.stringify(traceId)},"MinStart":${p.startNs || NO_START},"MaxEnd":${p.endNs},"Root":${root},` +
        `"SpanIds":${JSON.stringify(p.spanIds)},"ErrorSpanIds":${JSON.stringify(p.errorSpanIds)},"Services":${JSON.stringify(p.services)},` +
        `"LogIds":${JSON.stringify(p.logIds)},"AuditIds":[],"Principals":[]}`,
    );
  }
  return rows;
}

/** The same rows as one Native block (PARTS_COLUMNS order; Tuple elements as columns in turn). */
export function summaryNative(parts: readonly [string, SummaryPart][]): NativeBlock {
  const n = parts.length;
  const traceIds = new Sink(n * 33);
  const minStart = new BigUint64Array(n);
  const maxEnd = new BigUint64Array(n);
  const rootStart = new BigUint64Array(n);
  const rootService = new Sink(n * 8);
  const rootName = new Sink(n * 8);
  const spanOff = new Offsets(n);
  const spanIds = new Sink(n * 34);
  const errOff = new Offsets(n);
  const errIds = new Sink(64);
  const svcOff = new Offsets(n);
  const services = new Sink(n * 16);
  const logOff = new Offsets(n);
  let logs = new BigUint64Array(Math.max(16, n * 2));
  const empty = new Offsets(n);
  for (let i = 0; i < n; i++) {
    const [traceId, p] = parts[i]!;
    traceIds.str(traceId);
    minStart[i] = p.startNs || BigInt(NO_START);
    maxEnd[i] = p.endNs;
    const hasRoot = p.rootName !== '' || p.rootService !== '';
    rootStart[i] = hasRoot ? p.rootStartNs : BigInt(NO_START);
    rootService.str(hasRoot ? p.rootService : '');
    rootName.str(hasRoot ? p.rootName : '');
    for (const id of p.spanIds) spanIds.str(id);
    spanOff.push(p.spanIds.length);
    for (const id of p.errorSpanIds) errIds.str(id);
    errOff.push(p.errorSpanIds.length);
    for (const s of p.services) services.str(s);
    svcOff.push(p.services.length);
    const at = logOff.total;
    if (at + p.logIds.length > logs.length) {
      const next = new BigUint64Array(Math.max(logs.length * 2, at + p.logIds.length));
      next.set(logs);
      logs = next;
    }
    for (let j = 0; j < p.logIds.length; j++) logs[at + j] = BigInt(p.logIds[j]!);
    logOff.push(p.logIds.length);
    empty.push(0);
  }
  const none = empty.data;
  return nativeBlock(n, [
    ['TraceId', 'String', [traceIds.data]],
    ['MinStart', 'UInt64', [bytesOf(minStart)]],
    ['MaxEnd', 'UInt64', [bytesOf(maxEnd)]],
    ['Root', 'Tuple(UInt64, String, String)', [bytesOf(rootStart), rootService.data, rootName.data]],
    ['SpanIds', 'Array(String)', [spanOff.data, spanIds.data]],
    ['ErrorSpanIds', 'Array(String)', [errOff.data, errIds.data]],
    ['Services', 'Array(String)', [svcOff.data, services.data]],
    ['LogIds', 'Array(UInt64)', [logOff.data, bytesOf(logs.subarray(0, logOff.total))]],
    ['AuditIds', 'Array(Tuple(String, UInt64))', [none]],
    ['Principals', 'Array(String)', [none]],
  ]);
}
