/**
 * Classification of a whole logs payload into audit_events rows, decoded or
 * still its request bytes (read part by part, handing the event loop back
 * between parts: core/yield.ts). Every row's details carry its event id
 * (event-id.ts). The audit processor writes these rows; the detect processor
 * feeds them to its detectors (and leaves them for the audit processor:
 * reuse.ts).
 */
import { blankLogRecord, getAttr, type KeyValue, type LogRecord, type Resource } from '../../core/model.ts';
import type { LogPatches, LogsPayload } from '../../core/payload.ts';
import { readAnyValue, readKeyValue } from '../../core/otlp/common-proto.ts';
import { eachLogRecordOf, keyEnd, viewLogRecord } from '../../core/otlp/log-view.ts';
import { logRecordsView, mayBeOwnKey } from '../../core/otlp/log-records-view.ts';
import { walkAll, walkSliced, type PartWalk } from '../../core/yield.ts';
import type { Reader } from '../../core/otlp/protowire.ts';
import { LogRecordTag } from '../../core/otlp/wire-fields.gen.ts';
import { AccessBuilder, accessKeys, slotsByBytes, slotsOf, str, type AccessView } from '../mesh/fields.ts';
import { classifyRecord, type CompiledRules } from './classify.ts';
import type { Category } from './event.ts';
import { eventId, eventIdPrefix } from './event-id.ts';
import { bodyHashHex } from './leaf.ts';
import { auditRow, type AuditRow } from './schema.ts';

/**
 * Classifies a payload: the audit_events rows it gives. `leaveView`: a walk
 * of its bytes leaves where each record's fields lie for the stages after
 * (core/otlp/log-records-view.ts; detect, before correlate).
 */
export function classifyPayload(payload: LogsPayload, rules: CompiledRules, counts?: Record<Category, number>, leaveView = false): AuditRow[] {
  // Still its request bytes (the spool or Kafka handed it on): classified
  // from views of the records, so the payload stays bytes downstream.
  const c = payload.content;
  if (c.kind === 'bytes') return walkAll(classifyWalk(c.parts, c.patches, rules, eventIdPrefix(payload.dedupToken), counts, leaveView));
  return classifyRecords(payload, rules, counts);
}

/**
 * classifyPayload handing the event loop back between the parts of a
 * payload still its request bytes (core/yield.ts): the same rows.
 */
export function classifyPayloadSliced(payload: LogsPayload, rules: CompiledRules, counts?: Record<Category, number>, leaveView = false): Promise<AuditRow[]> | AuditRow[] {
  const c = payload.content;
  if (c.kind === 'bytes') return walkSliced(classifyWalk(c.parts, c.patches, rules, eventIdPrefix(payload.dedupToken), counts, leaveView));
  return classifyRecords(payload, rules, counts);
}

function classifyRecords(payload: LogsPayload, rules: CompiledRules, counts?: Record<Category, number>): AuditRow[] {
  const c = payload.content;
  if (c.kind !== 'records') throw new Error('classifyRecords: the payload is not decoded');
  const rows: AuditRow[] = [];
  const now = BigInt(Date.now()) * 1_000_000n;
  const prefix = eventIdPrefix(payload.dedupToken);
  let ordinal = 0;
  for (const rl of c.data.resourceLogs) {
    const service = str(getAttr(rl.resource.attributes, 'service.name'));
    for (const sl of rl.scopeLogs) {
      for (const r of sl.logRecords) collect(rows, r, ordinal++, prefix, rl.resource.attributes, service, rules, now, counts);
    }
  }
  return rows;
}

function collect(
  rows: AuditRow[],
  r: LogRecord,
  ordinal: number,
  prefix: string,
  resourceAttrs: readonly KeyValue[],
  service: string,
  rules: CompiledRules,
  now: bigint,
  counts?: Record<Category, number>,
  access?: () => AccessView | undefined,
): void {
  const events = classifyRecord(r, resourceAttrs, rules, access);
  for (let j = 0; j < events.length; j++) {
    const event = events[j]!;
    // Each event's details are its own object (classify.ts, k8s.ts).
    event.details.event_id = eventId(prefix, ordinal, j);
    rows.push({ event, service, fallbackTime: r.observedTimeUnixNano || now, bodyHash: rules.hashBodies ? bodyHashHex(event) : undefined });
    if (counts) counts[event.category]++;
  }
}

/**
 * classifyPayload over a payload not decoded yet, part by part. Each record is read for
 * what classification looks at: its times, body and ids as a record, and
 * its attributes straight from the bytes into the access fields (only
 * those the attribute map names; no KeyValue is made). A record whose
 * patch sets an attribute the map names is read as a view with the patch
 * applied instead.
 */
function classifyWalk(parts: readonly Uint8Array[], patches: LogPatches | undefined, rules: CompiledRules, prefix: string, counts: Record<Category, number> | undefined, leaveView: boolean): PartWalk<AuditRow[]> {
  const rows: AuditRow[] = [];
  let ordinal = 0;
  const now = BigInt(Date.now()) * 1_000_000n;
  const keys = accessKeys(rules.attributes);
  const slots = slotsByBytes(rules.attributes);
  let resource: Resource | undefined;
  let service = '';
  // Where the record's KeyValues are: [at the length, end] pairs.
  let kvs = new Int32Array(64);
  let n = 0;
  let reader: Reader;
  let record: LogRecord;
  // The first walk of a payload behind the queue leaves where each record's
  // fields lie, for the walks after it (correlate) to read instead of walking again.
  const view = leaveView && patches === undefined ? logRecordsView(parts) : undefined;
  let filling = false;
  const access = (): AccessView | undefined => {
    const b = new AccessBuilder();
    b.body(record.body);
    const r = reader;
    const buf = r.buf;
    for (let k = 0; k < n; k++) {
      const end = kvs[2 * k + 1]!;
      r.pos = kvs[2 * k]!;
      r.lenEnd(end);
      const kEnd = keyEnd(r, end);
      if (kEnd >= 0) {
        const sl = slots.get(buf, r.pos, kEnd);
        if (!sl || kEnd === end) continue; // not a name it reads, or no value
        r.pos = kEnd + 1; // the value's tag
        b.attribute(sl, str(readAnyValue(r, end, 0)));
      } else {
        r.pos = kvs[2 * k]!;
        const kv = readKeyValue(r, end);
        const sl = slotsOf(rules.attributes, kv.key);
        if (sl) b.attribute(sl, str(kv.value));
      }
    }
    return b.finish();
  };
  const visit = (r: Reader, end: number, i: number, res: Resource): void => {
    if (res !== resource) {
      resource = res;
      service = str(getAttr(res.attributes, 'service.name'));
    }
    const patch = patches?.[i];
    if (patch && (patch.keys ?? patch.attributes.map((kv) => kv.key)).some((k) => keys.has(k))) {
      collect(rows, viewLogRecord(r, end, keys, patch), i, prefix, res.attributes, service, rules, now, counts);
      return;
    }
    const rec = blankLogRecord();
    n = 0;
    const start = r.pos;
    let time = -1;
    let observed = -1;
    let body = -1;
    let sid = -1;
    while (r.pos < end) {
      const tag = r.uint32();
      switch (tag) {
        case LogRecordTag.time_unix_nano: time = r.pos; rec.timeUnixNano = r.fixed64(); break;
        case LogRecordTag.observed_time_unix_nano: observed = r.pos; rec.observedTimeUnixNano = r.fixed64(); break;
        case LogRecordTag.body: body = r.pos; rec.body = readAnyValue(r, end, 0); break;
        case LogRecordTag.attributes: {
          if (2 * n + 2 > kvs.length) {
            const more = new Int32Array(kvs.length * 2);
            more.set(kvs);
            kvs = more;
          }
          kvs[2 * n] = r.pos;
          r.pos = r.lenEnd(end);
          kvs[2 * n + 1] = r.pos;
          n++;
          break;
        }
        case LogRecordTag.trace_id: rec.traceId = r.id(end, 16, 'LogRecord.trace_id'); break;
        case LogRecordTag.span_id: sid = r.pos; rec.spanId = r.id(end, 8, 'LogRecord.span_id'); break;
        default: r.skip(tag & 7, end);
      }
    }
    if (filling) {
      let own = 0;
      for (let k = 0; k < n && own === 0; k++) {
        r.pos = kvs[2 * k]!;
        if (mayBeOwnKey(r, r.lenEnd(end))) own = 1;
      }
      view!.add(rec.traceId, start, end, time, observed, body, sid, n, own);
      r.pos = end;
    }
    if (patch?.traceId !== undefined) rec.traceId = patch.traceId;
    if (patch?.spanId !== undefined) rec.spanId = patch.spanId;
    reader = r;
    record = rec;
    collect(rows, rec, i, prefix, res.attributes, service, rules, now, counts, access);
  };
  return {
    parts: parts.length,
    part: (k) => {
      // Read into the view unless correlate's index, taking turns with us, read this part already.
      filling = view !== undefined && view.partEnds.length === k;
      ordinal = eachLogRecordOf(parts[k]!, ordinal, visit);
      if (filling) view!.endPart();
    },
    finish: () => rows,
  };
}

/** Classifies a payload into JSONEachRow lines for audit_events. */
export function auditRows(data: LogsPayload, rules: CompiledRules, counts?: Record<Category, number>): string[] {
  return classifyPayload(data, rules, counts).map(auditRow);
}
