/**
 * The clickhouse exporter: one INSERT per table per batch into the Collector's
 * tables, on the embedded engine or a ClickHouse server. Queue, retry,
 * timeout and metrics come from the exporter helper; this file only opens the
 * store, creates the schema, and pushes.
 *
 * A retried batch keeps its dedup token, and every insert carries
 * `insert_deduplication_token = <token>:<table>`, so ClickHouse drops the
 * second copy (the embedded MergeTree tables keep a deduplication window for
 * this; replicated tables have one by default).
 */
import type { Host } from '../../core/component.ts';
import type { PushContext, Pusher } from '../../core/exporter-helper.ts';
import type { LogsPayload, TracesPayload } from '../../core/payload.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import type { ClickHouseConfig } from './config.ts';
import { insertMetrics, insertWithPolicy, type InsertMetrics, type InsertPolicy } from '../../lib/clickhouse/insert.ts';
import { acquireQueryServer, queryServerOptions, type QueryServerLease } from '../../lib/clickhouse/query/query-server.ts';
import { encodeLogsNative, encodeTracesNative, logColumnsOf, NATIVE_SUPPORTED, type NativeBlock } from '../../lib/clickhouse/native.ts';
import { logsColumnsWalk, logsNativeWalk, tracesNativeWalk } from '../../lib/clickhouse/native-proto.ts';
import { OtelLogsLeaves } from '../../lib/audit/otel-logs-leaf.ts';
import { LOG_POSITION_COLUMNS } from '../../lib/audit/otel-logs-source.ts';
import { LOG_INSERT_SETTINGS } from '../../lib/audit/log-schema.ts';
import { openLogsLog, type LogsLog } from './integrity.ts';
import { walkSliced } from '../../core/yield.ts';
import { encodeLogs, encodeTraces, LOG_COLUMNS, SPAN_COLUMNS, type RowFormat } from '../../lib/clickhouse/rows.ts';
import { schemaStatements, type SchemaOptions } from '../../lib/clickhouse/schema.ts';
import { openStore, type InsertRequest, type Store, type StoreLease } from '../../lib/clickhouse/store.ts';
import { storeOptionsOf } from '../../lib/clickhouse/connection-config.ts';
import { storeProvider } from '../../lib/clickhouse/provider.ts';
import type { RetentionPlan } from '../../lib/retention/apply.ts';
import type { RetentionService } from '../../lib/retention/sweep.ts';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** What a ClickHouse server gets (any version parses it; the Collector sends rows too). */
const FORMAT: RowFormat = 'JSONCompactEachRow';

/** No timeout or retries of its own: the exporter helper's `timeout` and `retry_on_failure` apply. */
const EXPORTER_POLICY: InsertPolicy = { timeoutMs: 0, retries: 0, backoffMs: 0 };

/**
 * MergeTree settings of the embedded tables (columns, indexes and keys stay
 * the Collector's):
 * - non_replicated_deduplication_window: keep the last 1000 insert tokens per
 *   table, so a retried batch is recognised (replicated tables do by default);
 * - merge_selector_base 20 (ClickHouse's default 5): merges wait for wider
 *   sets of similar parts, so each row is rewritten fewer times. On a 2-core
 *   box the background merges were a large share of the engine's CPU per
 *   row; this cuts it (docs/benchmarks-log.md) for a few more active parts
 *   per partition;
 * - min_bytes_for_wide_part 64 MiB (default 10 MiB): an inserted batch (16384
 *   access logs are ~16 MiB) is written as a Compact part, one data file,
 *   instead of a Wide part's ~100 files (one per column, Map substream and
 *   skip index); merges still make Wide parts past 64 MiB, for queries.
 *   Measured in isolation (scripts/bench/clickhouse.ts) and end to end
 *   (docs/benchmarks-log.md, "Compact parts").
 */
const EMBEDDED_MERGETREE_SETTINGS = { non_replicated_deduplication_window: 1000, merge_selector_base: 20, min_bytes_for_wide_part: 64 * 1024 * 1024 };

export function schemaOptions(c: ClickHouseConfig, embedded: boolean): SchemaOptions {
  const cluster = c.cluster_name || null;
  // On a cluster the tables must replicate: the Collector's advice is a
  // Replicated engine, so an unconfigured MergeTree becomes ReplicatedMergeTree.
  const engine = cluster && c.table_engine.name === 'MergeTree' ? { name: 'ReplicatedMergeTree', params: c.table_engine.params } : c.table_engine;
  return {
    database: c.database,
    logsTable: c.logs_table_name,
    tracesTable: c.traces_table_name,
    ttlMs: c.ttl,
    clusterName: cluster,
    engine,
    // Any non-replicated MergeTree needs the dedup window for retried and
    // redelivered batches to be recognised, on a server too; the merge tuning
    // is for the embedded engine only.
    extraSettings:
      engine.name !== 'MergeTree' ? {} : embedded ? { ...EMBEDDED_MERGETREE_SETTINGS } : { non_replicated_deduplication_window: EMBEDDED_MERGETREE_SETTINGS.non_replicated_deduplication_window },
  };
}

export class ClickHouseExporter implements Pusher {
  private lease: StoreLease | undefined;
  private query: QueryServerLease | undefined;
  private readonly inserted: InsertMetrics | undefined;
  private readonly logsTable: string;
  private readonly tracesTable: string;
  /** The Merkle log over otel_logs rows of chosen services, when `integrity` is enabled. */
  private logsLog: LogsLog | undefined;

  constructor(
    private readonly cfg: ClickHouseConfig,
    private readonly logger: Logger,
    private readonly metrics?: MetricsRegistry,
  ) {
    this.inserted = metrics ? insertMetrics(metrics) : undefined;
    this.logsTable = `${cfg.database}.${cfg.logs_table_name}`;
    this.tracesTable = `${cfg.database}.${cfg.traces_table_name}`;
  }

  /** The store, once started (other components and tests read through it). */
  get store(): Store | undefined {
    return this.lease?.store;
  }

  /** The query interface's URL (`http://host:port`), when it is serving. */
  get queryUrl(): string | undefined {
    return this.query?.server.url;
  }

  /** The query interface's `host:port`, when it is serving. */
  get queryAddress(): string | undefined {
    return this.queryUrl?.replace(/^https?:\/\//, '');
  }

  async start(host: Host): Promise<void> {
    const c = this.cfg;
    // With `store`, the extension says where the store is and serves its query
    // interface; the lease below is on the same shared store.
    const provider = c.store ? storeProvider(host, c.store) : undefined;
    const lease = openStore(provider ? provider.storeOptions() : storeOptionsOf(c, Math.max(c.timeout, 30_000)));
    this.lease = lease;
    try {
      const store = lease.store;
      await store.ready();
      const plans = this.retentionPlans(provider?.retention);
      if (c.create_schema) {
        const o = schemaOptions(c, store.kind === 'embedded');
        if (plans) o.retention = { logs: plans[0].ttl, traces: plans[1].ttl, lookup: plans[2].ttl };
        for (const sql of schemaStatements(o, { logs: true, traces: true })) {
          await store.command(sql);
        }
      }
      if (plans) {
        const db = { exec: (sql: string) => store.command(sql), query: <T>(sql: string) => store.queryRows<T>(sql) };
        for (const plan of plans) await provider!.retention!.enforce(db, plan);
      }
      // The row counters exist from the start (at 0), so a watcher can tell "none yet" from "no counter".
      for (const table of [this.logsTable, this.tracesTable]) {
        this.inserted?.rows(table, 0);
        this.inserted?.failed(table, 0);
      }
      if (c.integrity.enabled) {
        // The leaves are computed from the Native columns: without them, chosen rows would go unlogged.
        if (!this.native(store)) throw new Error('exporters.clickhouse.integrity: the log over otel_logs needs Native inserts into the embedded store (a little-endian host)');
        if (!c.create_schema) await store.command(`CREATE DATABASE IF NOT EXISTS ${c.database}`);
        const dataRoot = provider ? provider.storeOptions().path : c.path;
        this.logsLog = await openLogsLog(c.integrity, {
          store, dataRoot, database: c.database, table: c.logs_table_name, logger: this.logger, metrics: this.metrics,
          insert: (block, token) => this.insertLogBlock(store, block, token),
        });
      }
      if (!provider && store.kind === 'embedded' && store.readonly && c.query_endpoint) {
        this.query = await acquireQueryServer(queryServerOptions(c, c.query_endpoint, store.readonly, c.database, this.logger, this.metrics));
      }
      this.logger.info('clickhouse exporter started', { store: store.key, database: c.database, query_url: this.queryUrl });
    } catch (err) {
      this.lease = undefined;
      await lease.release();
      throw err;
    }
  }

  /** The store's retention policy for the logs, traces and trace-id lookup tables (undefined: none configured; the exporter's `ttl` applies). */
  private retentionPlans(retention: RetentionService | undefined): [RetentionPlan, RetentionPlan, RetentionPlan] | undefined {
    if (!retention) return undefined;
    const c = this.cfg;
    if (c.cluster_name) throw new Error('exporters.clickhouse: a retention policy on a cluster (cluster_name) is not supported: its ALTERs would need ON CLUSTER');
    const base = { database: c.database, writerTtlMs: c.ttl, writerTtlKey: 'exporters.clickhouse.ttl' };
    const lookup = `${c.traces_table_name}_trace_id_ts`;
    return [
      retention.plan({ ...base, table: c.logs_table_name, ruleTable: c.logs_table_name, kind: 'logs' }),
      retention.plan({ ...base, table: c.traces_table_name, ruleTable: c.traces_table_name, kind: 'traces' }),
      retention.plan({ ...base, table: lookup, ruleTable: lookup, kind: 'lookup', derivedFrom: c.traces_table_name }),
    ];
  }

  async pushLogs(p: LogsPayload, ctx: PushContext): Promise<void> {
    const store = this.started();
    const covering = this.logsLog;
    // Closing (shutdown let go of the log before the store): refused, so the upstream keeps the
    // payload, rather than chosen rows written without their place in the log.
    if (!covering && this.cfg.integrity.enabled) throw new Error('clickhouse exporter: the otel_logs log is closed (shutting down); not written unlogged');
    if (covering) {
      // The walk tells `covered` about the rows of chosen services as it writes them; those
      // become leaves (the log's chain writes them, one batch at a time). Others cost nothing more.
      const covered = new OtelLogsLeaves(covering.services);
      const c = p.content;
      const cols = c.kind === 'bytes' ? await walkSliced(logsColumnsWalk(c.parts, c.count, c.patches, covered)) : logColumnsOf(c.data, covered);
      const sequence = p.sequence;
      p.release();
      if (cols.rows === 0) return;
      if (covered.count === 0) {
        const block = cols.block();
        await this.insert(store, { table: this.logsTable, columns: LOG_COLUMNS, format: 'Native', block }, block.rows, ctx);
        return;
      }
      await covering.log.append({ cols, covered }, ctx.dedupToken, sequence);
      return;
    }
    if (this.native(store)) {
      // Records no stage has built (the spool or Kafka hands on protobuf;
      // correlate's enrichment rides along as patches) go to Native columns
      // straight from the bytes, part by part, handing the event loop back
      // between parts (core/yield.ts): still one block, one insert.
      const c = p.content;
      const block = c.kind === 'bytes' ? await walkSliced(logsNativeWalk(c.parts, c.count, c.patches)) : encodeLogsNative(c.data);
      p.release(); // encoded: the records need not live through the insert
      if (block.rows > 0) await this.insert(store, { table: this.logsTable, columns: LOG_COLUMNS, format: 'Native', block }, block.rows, ctx);
      return;
    }
    const enc = encodeLogs(p.records(), FORMAT);
    p.release();
    if (enc.rows > 0) await this.insert(store, { table: this.logsTable, columns: LOG_COLUMNS, format: FORMAT, body: enc.body }, enc.rows, ctx);
  }

  async pushTraces(p: TracesPayload, ctx: PushContext): Promise<void> {
    const store = this.started();
    if (this.native(store)) {
      // Spans no stage has decoded (the spool or Kafka hands on protobuf) go
      // to Native columns without being built as records.
      const c = p.content;
      const block = c.kind === 'bytes' ? await walkSliced(tracesNativeWalk(c.parts, c.count)) : encodeTracesNative(c.data);
      p.release();
      if (block.rows > 0) await this.insert(store, { table: this.tracesTable, columns: SPAN_COLUMNS, format: 'Native', block }, block.rows, ctx);
      return;
    }
    const enc = encodeTraces(p.records(), FORMAT);
    p.release();
    if (enc.rows > 0) await this.insert(store, { table: this.tracesTable, columns: SPAN_COLUMNS, format: FORMAT, body: enc.body }, enc.rows, ctx);
  }

  private started(): Store {
    const store = this.lease?.store;
    if (!store) throw new Error('clickhouse exporter is not started');
    return store;
  }

  /**
   * The embedded engine gets Native blocks: far less of the engine's CPU per
   * row than parsing JSON text (docs/benchmarks-log.md). A server gets JSONCompactEachRow.
   */
  private native(store: Store): boolean {
    return store.kind === 'embedded' && NATIVE_SUPPORTED && this.nativeEnabled;
  }

  /** Tests compare both encodings through the same engine. */
  nativeEnabled = true;

  /**
   * A block of the otel_logs log (the table's columns and the log's), with
   * the log's dedup token. The log may retry it on a later push than the
   * one that built it, so it has a timeout of its own (`timeout`), not a push's signal.
   * A retry of an insert that landed although it was reported failed must not add its leaf
   * records twice: the leaves view's insert is deduplicated too (its table keeps a window).
   */
  private async insertLogBlock(store: Store, block: NativeBlock, token: string): Promise<void> {
    const req = { table: this.logsTable, columns: [...LOG_COLUMNS, ...LOG_POSITION_COLUMNS], format: 'Native', block, settings: { ...LOG_INSERT_SETTINGS, insert_deduplication_token: token }, signal: AbortSignal.timeout(this.cfg.timeout || 30_000) } as InsertRequest;
    await insertWithPolicy(store, req, block.rows, EXPORTER_POLICY, this.inserted);
  }

  private async insert(store: Store, req: DistributiveOmit<InsertRequest, 'settings' | 'signal'>, rows: number, ctx: PushContext): Promise<void> {
    const table = req.table;
    const settings: Record<string, string | number> = { insert_deduplication_token: `${ctx.dedupToken}:${table}` };
    if (store.kind === 'server' && this.cfg.async_insert) {
      settings.async_insert = 1;
      settings.wait_for_async_insert = 1;
      settings.async_insert_deduplicate = 1;
    }
    // The store's one insert path; the exporter helper around this exporter
    // already owns the timeout (ctx.signal) and the retries.
    await insertWithPolicy(store, { ...req, settings, signal: ctx.signal } as InsertRequest, rows, EXPORTER_POLICY, this.inserted);
  }

  async shutdown(): Promise<void> {
    // The log's final checkpoints, while the store is still open.
    const covering = this.logsLog;
    this.logsLog = undefined;
    await covering?.selfVerifier?.close();
    await covering?.log.close().catch((err: unknown) => this.logger.warn('otel_logs log: final checkpoint not written', { error: err }));
    const q = this.query;
    const l = this.lease;
    this.query = undefined;
    this.lease = undefined;
    await q?.release();
    await l?.release();
  }
}
