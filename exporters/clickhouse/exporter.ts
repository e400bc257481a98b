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
import { pendingRecords, releaseRecords, undecodedLogs, type LogsData, type TracesData } from '../../core/model.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import type { ClickHouseConfig } from './config.ts';
import { classifyInsertError } from './errors.ts';
import { acquireQueryServer, type QueryServerLease } from './query-server.ts';
import { encodeLogsNative, encodeTracesNative, NATIVE_SUPPORTED } from './native.ts';
import { encodeLogsNativeProto, encodeTracesNativeProto } from './native-proto.ts';
import { encodeLogs, encodeTraces, LOG_COLUMNS, SPAN_COLUMNS, type RowFormat } from './rows.ts';
import { schemaStatements, type SchemaOptions } from './schema.ts';
import { openStore, type InsertRequest, type Store, type StoreLease } from './store.ts';

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;

/** What a ClickHouse server gets (any version parses it; the Collector sends rows too). */
const FORMAT: RowFormat = 'JSONCompactEachRow';

/**
 * MergeTree settings of the embedded tables (columns, indexes and keys stay
 * the Collector's):
 * - non_replicated_deduplication_window: keep the last 1000 insert tokens per
 *   table, so a retried batch is recognised (replicated tables do by default);
 * - merge_selector_base 20 (ClickHouse's default 5): merges wait for wider
 *   sets of similar parts, so each row is rewritten fewer times. On a 2-core
 *   box the background merges were a third of the engine's CPU per row; this
 *   cut the engine's CPU per inserted row by ~30% (BENCHMARKS.md) for a few
 *   more active parts per partition (17 instead of 4 after 80 inserts);
 * - min_bytes_for_wide_part 64 MiB (default 10 MiB): an inserted batch (16384
 *   access logs are ~16 MiB) is written as a Compact part, one data file,
 *   instead of a Wide part's ~100 files (one per column, Map substream and
 *   skip index); merges still make Wide parts past 64 MiB, for queries.
 *   Engine CPU per row −35 to −45% in isolation (scripts/bench/clickhouse.ts),
 *   the Kafka ingester +10 to +35% per CPU-second (BENCHMARKS.md).
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
  private readonly logsTable: string;
  private readonly tracesTable: string;

  constructor(
    private readonly cfg: ClickHouseConfig,
    private readonly logger: Logger,
    private readonly metrics?: MetricsRegistry,
  ) {
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

  async start(_host: Host): Promise<void> {
    const c = this.cfg;
    const embeddedDir = c.endpoint?.startsWith('embedded://') ? c.endpoint.slice('embedded://'.length) : undefined;
    const lease = openStore({
      endpoint: embeddedDir !== undefined ? null : c.endpoint || null,
      path: c.path,
      dataDir: embeddedDir,
      username: c.username,
      password: c.password,
      requestTimeoutMs: Math.max(c.timeout, 30_000),
      compressRequests: c.compress === 'gzip',
      settings: c.connection_params,
    });
    this.lease = lease;
    try {
      const store = lease.store;
      await store.ready();
      if (c.create_schema) {
        for (const sql of schemaStatements(schemaOptions(c, store.kind === 'embedded'), { logs: true, traces: true })) {
          await store.command(sql);
        }
      }
      if (store.kind === 'embedded' && store.readonly && c.query_endpoint) {
        this.query = await acquireQueryServer({
          endpoint: c.query_endpoint,
          pool: store.readonly,
          defaultDatabase: c.database,
          logger: this.logger,
          users: c.query_users,
          tls: c.query_tls,
          insecure: c.query_insecure,
          throttle: c.query_login_throttle,
          queryLog: c.query_log,
          metrics: this.metrics,
        });
      }
      this.logger.info('clickhouse exporter started', { store: store.key, database: c.database, query_url: this.queryUrl });
    } catch (err) {
      this.lease = undefined;
      await lease.release();
      throw err;
    }
  }

  async pushLogs(data: LogsData, ctx: PushContext): Promise<void> {
    const store = this.started();
    if (this.native(store)) {
      // Records no stage has built (the spool or Kafka hands on protobuf;
      // correlate's enrichment rides along as patches) go to Native columns
      // straight from the bytes.
      const pending = undecodedLogs(data);
      const block = pending ? encodeLogsNativeProto(pending.parts, pending.count, pending.patches) : encodeLogsNative(data);
      releaseRecords(data); // encoded: the records need not live through the insert
      if (block.rows > 0) await this.insert(store, { table: this.logsTable, columns: LOG_COLUMNS, format: 'Native', block }, ctx);
      return;
    }
    const enc = encodeLogs(data, FORMAT);
    releaseRecords(data);
    if (enc.rows > 0) await this.insert(store, { table: this.logsTable, columns: LOG_COLUMNS, format: FORMAT, body: enc.body }, ctx);
  }

  async pushTraces(data: TracesData, ctx: PushContext): Promise<void> {
    const store = this.started();
    if (this.native(store)) {
      // Spans no stage has decoded (the spool or Kafka hands on protobuf) go
      // to Native columns without being built as records.
      const pending = pendingRecords(data);
      const block = pending ? encodeTracesNativeProto(pending.parts, pending.count) : encodeTracesNative(data);
      releaseRecords(data);
      if (block.rows > 0) await this.insert(store, { table: this.tracesTable, columns: SPAN_COLUMNS, format: 'Native', block }, ctx);
      return;
    }
    const enc = encodeTraces(data, FORMAT);
    releaseRecords(data);
    if (enc.rows > 0) await this.insert(store, { table: this.tracesTable, columns: SPAN_COLUMNS, format: FORMAT, body: enc.body }, ctx);
  }

  private started(): Store {
    const store = this.lease?.store;
    if (!store) throw new Error('clickhouse exporter is not started');
    return store;
  }

  /**
   * The embedded engine gets Native blocks: a third of the engine's CPU per
   * row of parsing JSON text (BENCHMARKS.md). A server gets JSONCompactEachRow.
   */
  private native(store: Store): boolean {
    return store.kind === 'embedded' && NATIVE_SUPPORTED && this.nativeEnabled;
  }

  /** Tests compare both encodings through the same engine. */
  nativeEnabled = true;

  private async insert(store: Store, req: DistributiveOmit<InsertRequest, 'settings' | 'signal'>, ctx: PushContext): Promise<void> {
    const table = req.table;
    const settings: Record<string, string | number> = { insert_deduplication_token: `${ctx.dedupToken}:${table}` };
    if (store.kind === 'server' && this.cfg.async_insert) {
      settings.async_insert = 1;
      settings.wait_for_async_insert = 1;
      settings.async_insert_deduplicate = 1;
    }
    try {
      await store.insert({ ...req, settings, signal: ctx.signal } as InsertRequest);
    } catch (err) {
      throw classifyInsertError(err, table);
    }
  }

  async shutdown(): Promise<void> {
    const q = this.query;
    const l = this.lease;
    this.query = undefined;
    this.lease = undefined;
    await q?.release();
    await l?.release();
  }
}
