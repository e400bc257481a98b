/**
 * The audit processor: classifies each log record (classify.ts), writes the
 * events to `audit_events` through the process-wide ClickHouse store, and
 * passes the payload on unchanged (the records stay in otel_logs too).
 *
 * A consume call settles only when both the events are written and the next
 * stage accepted the payload; either failure travels back, so the sender
 * (e.g. the Kafka receiver) redelivers. The insert's dedup token derives
 * from the payload's `dedupToken` (Kafka offsets), so a redelivery does not
 * write the events twice; without one, a token per payload still covers
 * retries of the same call.
 */
import type { Component, CreateSettings, Host, LogsConsumer, NextConsumers } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { RefusedError } from '../../core/errors.ts';
import { blankLogRecord, getAttr, type KeyValue, type LogRecord, type Resource } from '../../core/model.ts';
import type { LogPatches, LogsPayload } from '../../core/payload.ts';
import { readAnyValue, readKeyValue } from '../../core/otlp/common-proto.ts';
import { eachLogRecordOf, keyEnd, viewLogRecord } from '../../core/otlp/log-view.ts';
import { walkAll, walkSliced, type PartWalk } from '../../core/yield.ts';
import type { Reader } from '../../core/otlp/protowire.ts';
import { LogRecordTag } from '../../core/otlp/wire-fields.gen.ts';
import type { Counter, MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { processorMetrics } from '../../core/telemetry/metrics.ts';
import { classifyRecord, compileRules, type CompiledRules } from './classify.ts';
import type { AuditConfig } from './config.ts';
import { CATEGORIES, type Category } from '../../lib/audit/event.ts';
import { AccessBuilder, accessKeys, slotsByBytes, slotsOf, str, type AccessView } from '../../lib/mesh/fields.ts';
import { AUDIT_COLUMNS, auditLogColumnsSql, auditNative, auditRow, auditTableName, auditTableSql, databaseSql, type AuditRow } from '../../lib/audit/schema.ts';
import type { AuditLog } from '../../lib/audit/log.ts';
import { openSqlStore, type SqlStoreHandle } from '../../lib/clickhouse/sql-store.ts';
import { resolveStore } from '../../lib/clickhouse/store-config.ts';
import { storeProvider } from '../../lib/clickhouse/provider.ts';
import { insertMetrics } from '../../lib/clickhouse/insert.ts';
import { SecurityEventWriter } from './security-writer.ts';
import { openAuditLog } from './integrity.ts';
import { shareAuditRules } from './shared.ts';
import { takeClassified } from './reuse.ts';
import { ensureDedupToken, eventId, eventIdPrefix } from './event-id.ts';

/** Classifies a payload: the audit_events rows it gives. */
export function classifyPayload(payload: LogsPayload, rules: CompiledRules, counts?: Record<Category, number>): AuditRow[] {
  // Still its request bytes (the spool or Kafka handed it on): classified
  // from views of the records, so the payload stays bytes downstream.
  const c = payload.content;
  if (c.kind === 'bytes') return walkAll(classifyWalk(c.parts, c.patches, rules, eventIdPrefix(payload.dedupToken), counts));
  return classifyRecords(payload, rules, counts);
}

/**
 * classifyPayload handing the event loop back between the parts of a
 * payload still its request bytes (core/yield.ts): the same rows.
 */
export function classifyPayloadSliced(payload: LogsPayload, rules: CompiledRules, counts?: Record<Category, number>): Promise<AuditRow[]> | AuditRow[] {
  const c = payload.content;
  if (c.kind === 'bytes') return walkSliced(classifyWalk(c.parts, c.patches, rules, eventIdPrefix(payload.dedupToken), counts));
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
    rows.push({ event, service, fallbackTime: r.observedTimeUnixNano || now });
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
function classifyWalk(parts: readonly Uint8Array[], patches: LogPatches | undefined, rules: CompiledRules, prefix: string, counts?: Record<Category, number>): PartWalk<AuditRow[]> {
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
    while (r.pos < end) {
      const tag = r.uint32();
      switch (tag) {
        case LogRecordTag.time_unix_nano: rec.timeUnixNano = r.fixed64(); break;
        case LogRecordTag.observed_time_unix_nano: rec.observedTimeUnixNano = r.fixed64(); break;
        case LogRecordTag.body: rec.body = readAnyValue(r, end, 0); break;
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
        case LogRecordTag.span_id: rec.spanId = r.id(end, 8, 'LogRecord.span_id'); break;
        default: r.skip(tag & 7, end);
      }
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
      ordinal = eachLogRecordOf(parts[k]!, ordinal, visit);
    },
    finish: () => rows,
  };
}

/** Classifies a payload into JSONEachRow lines for audit_events. */
export function auditRows(data: LogsPayload, rules: CompiledRules, counts?: Record<Category, number>): string[] {
  return classifyPayload(data, rules, counts).map(auditRow);
}

export class AuditProcessor implements Component, LogsConsumer {
  private readonly rules: CompiledRules;
  private readonly metrics;
  private readonly eventCounters: Record<Category, Counter>;
  private readonly reusedCounter: Counter;
  private store: SqlStoreHandle | undefined;
  /** The signed Merkle log every row goes through (integrity.enabled). */
  log: AuditLog | undefined;
  /** Set when this processor stores the process's SecurityEvents (the first audit processor to start does). */
  securityWriter: SecurityEventWriter | undefined;
  private stopped = false;
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly settings: CreateSettings<AuditConfig>,
    private readonly next: NextConsumers,
  ) {
    this.rules = compileRules(settings.config);
    this.metrics = processorMetrics(settings.metrics, settings.id);
    this.eventCounters = eventCounters(settings.metrics, settings.id);
    this.reusedCounter = settings.metrics.counter('trailhouse_audit_reused_classifications', 'Payloads whose events the detect processor classified (not classified again).', { processor: settings.id });
  }

  async start(host: Host): Promise<void> {
    shareAuditRules(host, this.settings.id, this.rules);
    const c = this.settings.config;
    const where = resolveStore(c, host);
    this.store = openSqlStore(where, insertMetrics(this.settings.metrics));
    const store = this.store.store;
    // The store's retention policy, when it has one, decides the table's TTL (and refuses a `ttl` of ours beside it).
    const retention = c.store ? storeProvider(host, c.store).retention : undefined;
    const plan = retention?.plan({ database: c.database, table: c.table, ruleTable: c.table, kind: 'audit', writerTtlMs: c.ttl, writerTtlKey: 'processors.audit.ttl' });
    await store.exec(databaseSql(c.database));
    await store.exec(auditTableSql({ database: c.database, table: c.table, ttlMs: c.ttl, retention: plan?.ttl }));
    for (const sql of auditLogColumnsSql(c)) await store.exec(sql);
    if (plan) await retention!.enforce(store, plan);
    if (c.integrity.enabled) {
      const dataRoot = where.endpoint ? c.path : where.path;
      this.log = await openAuditLog(c.integrity, { store, database: c.database, table: c.table, dataRoot, logger: this.settings.logger, metrics: this.settings.metrics });
    }
    const log = this.log;
    const write = log ? (rows: AuditRow[], token: string) => log.append(rows, token) : undefined;
    this.securityWriter = SecurityEventWriter.claim(store, auditTableName(c), this.settings.logger, this.settings.metrics, {}, write);
  }

  consumeLogs(data: LogsPayload): Promise<void> {
    if (this.stopped || !this.store) return Promise.reject(new RefusedError('audit processor is not running', 'shutting_down'));
    const p = this.process(data);
    this.inflight.add(p);
    return p.finally(() => this.inflight.delete(p));
  }

  private async process(data: LogsPayload): Promise<void> {
    const n = data.count;
    this.metrics.logs.incoming.add(n);
    const counts = { authorization: 0, authentication: 0, configuration: 0, sensitive_access: 0, data_access: 0 };
    // Classify before handing the payload on: a later stage may change records
    // in place. Part by part, handing the event loop back between parts.
    const token = ensureDedupToken(data);
    // The detect processor's classification of this payload, when it made one with our rules (reuse.ts).
    const reused = await takeClassified(data, this.rules);
    if (reused) {
      this.reusedCounter.add(1);
      for (const r of reused) counts[r.event.category]++;
    }
    const rows = reused ?? (await classifyPayloadSliced(data, this.rules, counts));
    const write = rows.length ? this.write(rows, `${token}:audit`, data.sequence) : Promise.resolve();
    const results = await Promise.allSettled([write, this.next.logs!.consumeLogs(data)]);
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed) {
      this.metrics.logs.refused.add(n);
      throw failed.reason;
    }
    for (const c of CATEGORIES) if (counts[c]) this.eventCounters[c].add(counts[c]);
    this.metrics.logs.outgoing.add(n);
  }

  private write(rows: AuditRow[], dedupToken: string, sequence: string | undefined): Promise<void> {
    if (this.log) return this.log.append(rows, dedupToken, sequence);
    const c = this.settings.config;
    const encoded = { json: () => rows.map(auditRow).join('\n'), native: () => auditNative(rows) };
    return this.store!.store.insert(auditTableName(c), AUDIT_COLUMNS, encoded, { dedupToken });
  }

  readonly shutdown = once(async () => {
    this.stopped = true;
    await Promise.allSettled([...this.inflight]);
    await this.securityWriter?.close();
    await this.log?.close().catch((err: unknown) => this.settings.logger.error('final audit log checkpoint not written', { error: err }));
    await this.store?.release();
  });
}

function eventCounters(reg: MetricsRegistry, processor: string): Record<Category, Counter> {
  const out = {} as Record<Category, Counter>;
  for (const category of CATEGORIES) {
    out[category] = reg.counter('trailhouse_audit_events', 'Audit events written to audit_events, by category.', { processor, category });
  }
  return out;
}
