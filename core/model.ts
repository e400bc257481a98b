/**
 * The in-memory telemetry data model: OTLP's shape (resource → scope → records),
 * decoded once at the edge and shared by every component.
 *
 * Choices, and why:
 * - Trace and span ids are lowercase hex strings ('' when absent). Every consumer
 *   downstream (ClickHouse columns, Kafka message keys, correlation) wants hex,
 *   so we convert once when decoding and back to bytes only when encoding.
 * - Timestamps are `bigint` nanoseconds since the Unix epoch (0n = unset);
 *   a JS number cannot hold them exactly.
 * - Attribute values are plain JS values, typed the way OTLP types them:
 *   string → string, bool → boolean, int → bigint, double → number,
 *   bytes → Uint8Array, array → AnyValue[], kvlist → KvList, empty → undefined.
 *   An int and a double stay distinguishable (1n vs 1), which the Collector's
 *   AsString rules and re-encoding both need.
 * - Attributes are an ordered `KeyValue[]`, as on the wire; use `getAttr`.
 */

export type AnyValue =
  | string
  | boolean
  | bigint
  | number
  | Uint8Array
  | AnyValue[]
  | KvList
  | undefined;

/** OTLP's KeyValueList: a map value (kvlistValue). */
export class KvList {
  constructor(public values: KeyValue[]) {}
}

export interface KeyValue {
  key: string;
  value: AnyValue;
}

export interface Resource {
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

export interface InstrumentationScope {
  name: string;
  version: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

// ---------------------------------------------------------------- logs

export interface LogRecord {
  timeUnixNano: bigint;
  observedTimeUnixNano: bigint;
  /** SeverityNumber enum value, 0 = unspecified. */
  severityNumber: number;
  severityText: string;
  body: AnyValue;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  flags: number;
  traceId: string;
  spanId: string;
  eventName: string;
}

export interface ScopeLogs {
  scope: InstrumentationScope;
  logRecords: LogRecord[];
  schemaUrl: string;
}

export interface ResourceLogs {
  resource: Resource;
  scopeLogs: ScopeLogs[];
  schemaUrl: string;
}

/** ExportLogsServiceRequest / LogsData. */
export interface LogsData {
  resourceLogs: ResourceLogs[];
}

// ---------------------------------------------------------------- traces

/** Span.SpanKind enum values. */
export const SpanKind = {
  UNSPECIFIED: 0,
  INTERNAL: 1,
  SERVER: 2,
  CLIENT: 3,
  PRODUCER: 4,
  CONSUMER: 5,
} as const;

/** Status.StatusCode enum values. */
export const StatusCode = { UNSET: 0, OK: 1, ERROR: 2 } as const;

export interface SpanEvent {
  timeUnixNano: bigint;
  name: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
}

export interface SpanLink {
  traceId: string;
  spanId: string;
  traceState: string;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  flags: number;
}

export interface SpanStatus {
  message: string;
  code: number;
}

export interface Span {
  traceId: string;
  spanId: string;
  traceState: string;
  parentSpanId: string;
  flags: number;
  name: string;
  kind: number;
  startTimeUnixNano: bigint;
  endTimeUnixNano: bigint;
  attributes: KeyValue[];
  droppedAttributesCount: number;
  events: SpanEvent[];
  droppedEventsCount: number;
  links: SpanLink[];
  droppedLinksCount: number;
  status: SpanStatus;
}

export interface ScopeSpans {
  scope: InstrumentationScope;
  spans: Span[];
  schemaUrl: string;
}

export interface ResourceSpans {
  resource: Resource;
  scopeSpans: ScopeSpans[];
  schemaUrl: string;
}

/** ExportTraceServiceRequest / TracesData. */
export interface TracesData {
  resourceSpans: ResourceSpans[];
}

export type Signal = 'logs' | 'traces';

// ---------------------------------------------------------------- helpers

export function getAttr(attrs: readonly KeyValue[], key: string): AnyValue {
  for (let i = 0; i < attrs.length; i++) if (attrs[i]!.key === key) return attrs[i]!.value;
  return undefined;
}

/** Sets (replacing the first occurrence) or appends an attribute. */
export function setAttr(attrs: KeyValue[], key: string, value: AnyValue): void {
  for (let i = 0; i < attrs.length; i++) {
    if (attrs[i]!.key === key) {
      attrs[i]!.value = value;
      return;
    }
  }
  attrs.push({ key, value });
}

export function emptyResource(): Resource {
  return { attributes: [], droppedAttributesCount: 0 };
}

export function emptyScope(): InstrumentationScope {
  return { name: '', version: '', attributes: [], droppedAttributesCount: 0 };
}

/** An empty record (every decoder builds its records from this, so V8 keeps one hidden class). */
export function blankLogRecord(): LogRecord {
  return {
    timeUnixNano: 0n,
    observedTimeUnixNano: 0n,
    severityNumber: 0,
    severityText: '',
    body: undefined,
    attributes: [],
    droppedAttributesCount: 0,
    flags: 0,
    traceId: '',
    spanId: '',
    eventName: '',
  };
}

export function newLogRecord(init: Partial<LogRecord> = {}): LogRecord {
  return Object.assign(blankLogRecord(), init);
}

export function newSpan(init: Partial<Span> = {}): Span {
  return {
    traceId: '',
    spanId: '',
    traceState: '',
    parentSpanId: '',
    flags: 0,
    name: '',
    kind: 0,
    startTimeUnixNano: 0n,
    endTimeUnixNano: 0n,
    attributes: [],
    droppedAttributesCount: 0,
    events: [],
    droppedEventsCount: 0,
    links: [],
    droppedLinksCount: 0,
    status: { message: '', code: 0 },
    ...init,
  };
}

export function logRecordCount(data: LogsData): number {
  let n = 0;
  for (const rl of data.resourceLogs) for (const sl of rl.scopeLogs) n += sl.logRecords.length;
  return n;
}

export function spanCount(data: TracesData): number {
  let n = 0;
  for (const rs of data.resourceSpans) for (const ss of rs.scopeSpans) n += ss.spans.length;
  return n;
}

// ---------------------------------------------------------------- cloning

function cloneValue(v: AnyValue): AnyValue {
  if (v === null || typeof v !== 'object') return v;
  if (v instanceof Uint8Array) return v.slice();
  if (Array.isArray(v)) return v.map(cloneValue);
  return new KvList(cloneAttrs(v.values));
}

export function cloneAttrs(attrs: readonly KeyValue[]): KeyValue[] {
  return attrs.map((kv) => ({ key: kv.key, value: cloneValue(kv.value) }));
}

function cloneResource(r: Resource): Resource {
  return { attributes: cloneAttrs(r.attributes), droppedAttributesCount: r.droppedAttributesCount };
}

function cloneScope(s: InstrumentationScope): InstrumentationScope {
  return { ...s, attributes: cloneAttrs(s.attributes) };
}

/** A deep copy, for fanning one payload out to consumers that may change it. */
export function cloneLogs(data: LogsData): LogsData {
  return {
    resourceLogs: data.resourceLogs.map((rl) => ({
      resource: cloneResource(rl.resource),
      schemaUrl: rl.schemaUrl,
      scopeLogs: rl.scopeLogs.map((sl) => ({
        scope: cloneScope(sl.scope),
        schemaUrl: sl.schemaUrl,
        logRecords: sl.logRecords.map((r) => ({ ...r, body: cloneValue(r.body), attributes: cloneAttrs(r.attributes) })),
      })),
    })),
  };
}

export function cloneTraces(data: TracesData): TracesData {
  return {
    resourceSpans: data.resourceSpans.map((rs) => ({
      resource: cloneResource(rs.resource),
      schemaUrl: rs.schemaUrl,
      scopeSpans: rs.scopeSpans.map((ss) => ({
        scope: cloneScope(ss.scope),
        schemaUrl: ss.schemaUrl,
        spans: ss.spans.map((sp) => ({
          ...sp,
          attributes: cloneAttrs(sp.attributes),
          events: sp.events.map((e) => ({ ...e, attributes: cloneAttrs(e.attributes) })),
          links: sp.links.map((l) => ({ ...l, attributes: cloneAttrs(l.attributes) })),
          status: { ...sp.status },
        })),
      })),
    })),
  };
}

// ---------------------------------------------------------------- log patches

/**
 * A change to one log record of a payload still in bytes: the ids to set
 * (when given) and attributes set as setAttr sets them, in order (replacing
 * the first attribute of the same key, else appended). What correlate's
 * enrichment does to a record, without building it (core/payload.ts patch).
 */
export interface LogPatch {
  traceId?: string;
  spanId?: string;
  /** Keys unique within the patch. */
  attributes: KeyValue[];
  /**
   * The keys of `attributes`, in order, when the patch knows them without
   * making its attributes (a shared array: readers may cache by it).
   */
  readonly keys?: readonly string[];
}
