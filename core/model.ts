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
import { clientInfo, setClientInfo } from './client.ts';

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
  const pending = (data as Pending)[PENDING];
  if (pending !== undefined) return pending.count;
  let n = 0;
  for (const rl of data.resourceLogs) for (const sl of rl.scopeLogs) n += sl.logRecords.length;
  return n;
}

export function spanCount(data: TracesData): number {
  const pending = (data as Pending)[PENDING];
  if (pending !== undefined) return pending.count;
  let n = 0;
  for (const rs of data.resourceSpans) for (const ss of rs.scopeSpans) n += ss.spans.length;
  return n;
}

/** Number of items (log records or spans) in a payload of either signal. */
export function itemCount(signal: Signal, data: LogsData | TracesData): number {
  return signal === 'logs' ? logRecordCount(data as LogsData) : spanCount(data as TracesData);
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

/** A deep copy, for fanning one payload out to consumers that may mutate it (the sender's client info comes along). */
export function cloneLogs(data: LogsData): LogsData {
  const pending = (data as Pending)[PENDING];
  if (pending !== undefined) return withClientOf(data, lazyPayload<LogsData>('resourceLogs', pending));
  return withClientOf(data, {
    resourceLogs: data.resourceLogs.map((rl) => ({
      resource: cloneResource(rl.resource),
      schemaUrl: rl.schemaUrl,
      scopeLogs: rl.scopeLogs.map((sl) => ({
        scope: cloneScope(sl.scope),
        schemaUrl: sl.schemaUrl,
        logRecords: sl.logRecords.map((r) => ({ ...r, body: cloneValue(r.body), attributes: cloneAttrs(r.attributes) })),
      })),
    })),
  });
}

export function cloneTraces(data: TracesData): TracesData {
  const pending = (data as Pending)[PENDING];
  if (pending !== undefined) return withClientOf(data, lazyPayload<TracesData>('resourceSpans', pending));
  return withClientOf(data, {
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
  });
}

function withClientOf<T extends LogsData | TracesData>(from: LogsData | TracesData, to: T): T {
  setClientInfo(to, clientInfo(from));
  return to;
}

// ---------------------------------------------------------------- raw bytes
// (client info, the other thing a payload carries beside its records, is in core/client.ts)

const RAW = Symbol('trailhouse.rawProto');

type WithRaw = { [RAW]?: Uint8Array[] };

/**
 * The OTLP protobuf encoding of exactly this payload, when a stage knows it:
 * the OTLP receiver attaches the request bytes it decoded, and the batch
 * processor concatenates its parts' bytes (two Export requests concatenated
 * are one valid request whose resources are the union). A persistent queue
 * then stores these bytes instead of encoding the payload again.
 *
 * The invariant: the bytes describe the records exactly. The service strips
 * them before every processor that does not declare `keepsRawProto` (so a
 * processor that changes records cannot leave stale bytes behind), and a deep
 * copy never carries them.
 */
export function rawProto(data: LogsData | TracesData): Uint8Array[] | undefined {
  return (data as WithRaw)[RAW];
}

export function setRawProto(data: LogsData | TracesData, parts: Uint8Array[]): void {
  Object.defineProperty(data, RAW, { value: parts, enumerable: false, configurable: true, writable: true });
}

export function dropRawProto(data: LogsData | TracesData): void {
  if ((data as WithRaw)[RAW] !== undefined) delete (data as WithRaw)[RAW];
}

// ---------------------------------------------------------------- payloads not decoded yet

const PENDING = Symbol('trailhouse.pending');

/** What a payload whose records are not built yet holds instead: its request bytes. */
export interface PendingRecords {
  /** Export requests (protobuf); together they are the payload (see rawProto). */
  readonly parts: readonly Uint8Array[];
  /** Records in them, known from validating them (core/otlp/scan.ts). */
  readonly count: number;
  /** Builds one part's records (the signal's protobuf decoder). */
  readonly decode: (part: Uint8Array) => unknown[];
  /**
   * Logs only: changes a stage made to records it did not build (see
   * patchLogs), by record ordinal across the parts in order. The records
   * are the bytes with these applied.
   */
  readonly patches?: readonly (LogPatch | undefined)[];
}

/**
 * A change to one log record of a payload still in bytes: the ids to set
 * (when given) and attributes set as setAttr sets them, in order (replacing
 * the first attribute of the same key, else appended). What correlate's
 * enrichment does to a record, without building it.
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

/** Applies `patch` to a record, as the stage that made it would have. */
export function applyLogPatch(r: LogRecord, patch: LogPatch): void {
  if (patch.traceId !== undefined) r.traceId = patch.traceId;
  if (patch.spanId !== undefined) r.spanId = patch.spanId;
  for (const kv of patch.attributes) setAttr(r.attributes, kv.key, kv.value);
}

function applyLogPatches(resourceLogs: readonly ResourceLogs[], patches: readonly (LogPatch | undefined)[]): void {
  let i = 0;
  for (const rl of resourceLogs) {
    for (const sl of rl.scopeLogs) {
      for (const r of sl.logRecords) {
        const p = patches[i++];
        if (p) applyLogPatch(r, p);
      }
    }
  }
}

/**
 * Changes records of a logs payload that is still its request bytes,
 * without building them: `patches[i]` applies to the i-th record (across
 * the parts, in order); patches already there stay, these applied on top.
 * The bytes no longer describe the records alone, so the payload loses its
 * rawProto, and pendingRecords no longer offers it as bytes (a queue or
 * Kafka would store the bytes without the patches); readers that know
 * patches take it through undecodedLogs. Reading its records applies them.
 */
export function patchLogs(data: LogsData, patches: readonly (LogPatch | undefined)[]): void {
  const d = data as Sourced;
  const pending = d[PENDING];
  if (!pending) throw new Error('patchLogs: the payload has been decoded; change its records instead');
  let merged: (LogPatch | undefined)[] = patches as (LogPatch | undefined)[];
  if (pending.patches) {
    merged = pending.patches.slice();
    for (let i = 0; i < patches.length; i++) {
      const p = patches[i];
      if (!p) continue;
      const q = merged[i];
      if (!q) {
        merged[i] = p;
        continue;
      }
      const attributes = q.attributes.map((kv) => ({ key: kv.key, value: kv.value })); // q may be shared (a copy's)
      for (const kv of p.attributes) setAttr(attributes, kv.key, kv.value);
      merged[i] = { traceId: p.traceId ?? q.traceId, spanId: p.spanId ?? q.spanId, attributes };
    }
  }
  const next: PendingRecords = { parts: pending.parts, count: pending.count, decode: pending.decode, patches: merged };
  const src = d[SOURCE];
  if (src) Object.defineProperty(d, SOURCE, { value: { key: src.key, pending: next }, configurable: true });
  dropRawProto(data);
  defer(d, 'resourceLogs', next);
}

type Pending = { [PENDING]?: PendingRecords };

/**
 * A payload that has been validated but not decoded: its `resourceLogs` /
 * `resourceSpans` are built from the request bytes the first time anything
 * reads them (and replaced by a plain property then), so a stage that reads
 * records works unchanged, only paying the decode where it happens. A
 * pipeline whose stages only count and forward bytes (the Kafka gateway:
 * OTLP → batch → kafka) never builds a record. Counting
 * (logRecordCount/spanCount) and deep copies do not decode. The payload
 * carries its bytes as rawProto too. Build one with core/otlp/lazy.ts.
 */
export function lazyPayload<D extends LogsData | TracesData>(key: 'resourceLogs' | 'resourceSpans', pending: PendingRecords): D {
  const data = {} as D & Pending;
  Object.defineProperty(data, SOURCE, { value: { key, pending }, configurable: true });
  defer(data, key, pending);
  if (!pending.patches) setRawProto(data, pending.parts as Uint8Array[]);
  return data;
}

const SOURCE = Symbol('trailhouse.source');

type Sourced = Pending & { [SOURCE]?: { key: 'resourceLogs' | 'resourceSpans'; pending: PendingRecords } };

/** Installs the getter that builds the records on first read (and the setter that replaces them). */
function defer(data: Sourced, key: 'resourceLogs' | 'resourceSpans', pending: PendingRecords): void {
  const settle = (value: unknown) => {
    delete data[PENDING];
    Object.defineProperty(data, key, { value, writable: true, enumerable: true, configurable: true });
  };
  Object.defineProperty(data, key, {
    enumerable: true,
    configurable: true,
    get() {
      const { parts, decode, patches } = pending;
      const value = parts.length === 1 ? decode(parts[0]!) : parts.flatMap((p) => decode(p));
      if (patches) applyLogPatches(value as ResourceLogs[], patches);
      settle(value);
      return value;
    },
    set(value: unknown) {
      delete data[SOURCE]; // records replaced: no longer what the bytes say
      settle(value);
    },
  });
  Object.defineProperty(data, PENDING, { value: pending, configurable: true });
}

/**
 * Lets go of the records a lazy payload built when read, so they can be
 * collected while the payload itself lives on (an exporter that has encoded
 * them, waiting for the store to answer), to be built again if read again.
 * Only while the payload's bytes still describe its records exactly: rawProto
 * is the very bytes it was built from (no stage that may change records has
 * seen it, see core/model.ts rawProto) and they were not replaced. Anything
 * else is left alone. Returns whether the records were let go.
 */
export function releaseRecords(data: LogsData | TracesData): boolean {
  const d = data as Sourced;
  const src = d[SOURCE];
  if (!src || d[PENDING] !== undefined || rawProto(data) !== src.pending.parts) return false;
  defer(d, src.key, src.pending);
  return true;
}

/**
 * The request bytes of a payload whose records have not been built yet
 * (undefined once they are, for any other payload, and for one with
 * patches: its bytes alone are not its records).
 */
export function pendingRecords(data: LogsData | TracesData): PendingRecords | undefined {
  const p = (data as Pending)[PENDING];
  return p?.patches ? undefined : p;
}

/** A logs payload not built yet, patches included (see patchLogs): for readers that apply them. */
export function undecodedLogs(data: LogsData): PendingRecords | undefined {
  return (data as Pending)[PENDING];
}

/**
 * Replaces the request bytes of a payload whose records are not built yet
 * (and that has no patches) by `parts`, which must hold the same number of
 * records: a stage that rewrote some requests as bytes (redaction). The
 * payload object, and whatever else it carries (client info), stay; its
 * rawProto becomes the new bytes.
 */
export function replacePendingParts(data: LogsData | TracesData, parts: Uint8Array[]): void {
  const d = data as Sourced;
  const pending = d[PENDING];
  const src = d[SOURCE];
  if (!pending || pending.patches || !src) throw new Error('replacePendingParts: the payload is decoded or patched');
  const next: PendingRecords = { parts, count: pending.count, decode: pending.decode };
  Object.defineProperty(d, SOURCE, { value: { key: src.key, pending: next }, configurable: true });
  defer(d, src.key, next);
  setRawProto(data, parts);
}
