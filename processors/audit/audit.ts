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
import type { LogsPayload } from '../../core/payload.ts';
import type { Counter, MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { processorMetrics } from '../../core/telemetry/metrics.ts';
import { compileRules, type CompiledRules } from '../../lib/audit/classify.ts';
import { classifyPayloadSliced } from '../../lib/audit/classify-payload.ts';
export { auditRows, classifyPayload, classifyPayloadSliced } from '../../lib/audit/classify-payload.ts';
import type { AuditConfig } from './config.ts';
import { CATEGORIES, type Category } from '../../lib/audit/event.ts';
import { AUDIT_COLUMNS, auditLogColumnsSql, auditNative, auditRow, auditTableName, auditTableSql, databaseSql, type AuditRow } from '../../lib/audit/schema.ts';
import type { AuditLog } from '../../lib/audit/log.ts';
import { openSqlStore, type SqlStoreHandle } from '../../lib/clickhouse/sql-store.ts';
import { resolveStore } from '../../lib/clickhouse/store-config.ts';
import { storeProvider } from '../../lib/clickhouse/provider.ts';
import { insertMetrics } from '../../lib/clickhouse/insert.ts';
import { SecurityEventWriter } from './security-writer.ts';
import { integrityPaths, openAuditLog } from './integrity.ts';
import { SelfVerifier } from '../../lib/audit/self-verify.ts';
import { ownStoreSource, type OwnSource } from '../../lib/audit/self-verify-source.ts';
import { openStore, type StoreLease } from '../../lib/clickhouse/store.ts';
import { shareIntegrity } from '../../lib/audit/shared-integrity.ts';
import { loadOrCreateSigner } from '../../lib/tlog/keys.ts';
import { shareAuditRules } from '../../lib/audit/shared-rules.ts';
import { takeClassified } from '../../lib/audit/reuse.ts';
import { ensureDedupToken } from '../../lib/audit/event-id.ts';

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
  /** The periodic check of the log (integrity.self_verify). */
  selfVerifier: SelfVerifier | undefined;
  private selfSource: { lease: StoreLease; source: OwnSource } | undefined;
  private stopped = false;
  private readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly settings: CreateSettings<AuditConfig>,
    private readonly next: NextConsumers,
  ) {
    this.rules = { ...compileRules(settings.config), hashBodies: settings.config.integrity.enabled };
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
    if (c.security_events) this.securityWriter = SecurityEventWriter.claim(store, auditTableName(c), this.settings.logger, this.settings.metrics, {}, write);
    const p = integrityPaths(c.integrity, where.endpoint ? c.path : where.path, c.database, c.table);
    // The console in this pipeline signs its reports with the log's key (the file exists: the log opened it).
    if (log) shareIntegrity(host, { signer: loadOrCreateSigner(p.keyFile, p.keyName), keyFile: p.keyFile, verifiersFile: p.verifiersFile, witnessFile: p.witnessFile, database: c.database, table: c.table });
    if (log && (c.integrity.self_verify?.interval ?? 0) > 0) {
      // A lease of the same store: its read-only sessions (embedded), or its endpoint (a server).
      const lease = openStore(where);
      const source = ownStoreSource(lease.store, c.database, where.endpoint ? where : undefined);
      this.selfSource = { lease, source };
      this.selfVerifier = new SelfVerifier({ source, table: c.table, witnessFile: p.witnessFile, verifiersFile: p.verifiersFile, intervalMs: c.integrity.self_verify!.interval, logger: this.settings.logger });
      this.selfVerifier.start();
    }
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
    await this.selfVerifier?.close();
    await this.selfSource?.source.close();
    await this.selfSource?.lease.release();
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
