/**
 * The store as one component (the `clickhouse_store` extension): it owns the
 * connection (the embedded chDB engine or a ClickHouse server) and, on the
 * embedded engine, the read-only query interface. Extensions start before
 * every exporter and processor, so the store is open and answering before the
 * first writer asks for it, and closes after the last one let go.
 *
 * Writers (the clickhouse exporter, audit, correlate) name it with
 * `store: <id>` and take a lease on the same shared store (lib/clickhouse
 * store.ts keeps one per data directory or server): each keeps its own
 * tables and DDL, the connection and the readers are configured here once.
 */
import type { Component, CreateSettings, ExtensionFactory } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { storeOptionsOf } from '../../lib/clickhouse/connection-config.ts';
import type { StoreProvider } from '../../lib/clickhouse/provider.ts';
import { openStore, type Store, type StoreLease, type StoreOptions } from '../../lib/clickhouse/store.ts';
import { acquireQueryServer, queryServerOptions, type QueryServerLease } from '../../lib/clickhouse/query/query-server.ts';
import { retentionRules } from '../../lib/retention/config.ts';
import { RetentionService } from '../../lib/retention/sweep.ts';
import { StatsWriter } from '../../lib/pipeline-stats/writer.ts';
import { clickhouseStoreSchema, defaultClickHouseStoreConfig, validateClickHouseStore, type ClickHouseStoreConfig } from './config.ts';

export class ClickHouseStoreExtension implements Component, StoreProvider {
  readonly kind = 'clickhouse_store';
  private lease: StoreLease | undefined;
  private query: QueryServerLease | undefined;
  private readonly options: StoreOptions;
  private retentionService: RetentionService | undefined;
  private stats: StatsWriter | undefined;

  constructor(private readonly settings: CreateSettings<ClickHouseStoreConfig>) {
    this.options = storeOptionsOf(settings.config, Math.max(settings.config.timeout, 1000));
  }

  get database(): string {
    return this.settings.config.database;
  }

  storeOptions(): StoreOptions {
    return this.options;
  }

  /** The retention policy, when configured (writers apply it to their tables at start). */
  get retention(): RetentionService | undefined {
    return this.retentionService;
  }

  /** The open store, once started. */
  get store(): Store | undefined {
    return this.lease?.store;
  }

  /** The query interface's routes (actions beside queries), when it is serving. */
  get queryRoutes() {
    return this.query?.server.routes;
  }

  /** The query interface's users and login throttling, for other read surfaces (the console). */
  get queryAccess() {
    return { users: this.settings.config.query_users, throttle: this.settings.config.query_login_throttle };
  }

  /** The query interface's `http://host:port`, when it is serving. */
  get queryUrl(): string | undefined {
    return this.query?.server.url;
  }

  async start(): Promise<void> {
    const c = this.settings.config;
    const lease = openStore(this.options);
    this.lease = lease;
    try {
      const store = lease.store;
      await store.ready();
      if (store.kind === 'embedded' && store.readonly && c.query_endpoint) {
        this.query = await acquireQueryServer(queryServerOptions(c, c.query_endpoint, store.readonly, c.database, this.settings.logger, this.settings.metrics));
      }
      if (c.retention) {
        const errors: { path: string; message: string }[] = [];
        const rules = retentionRules(c.retention, errors);
        if (errors.length) throw new Error(`retention: ${errors.map((e) => `${e.path}: ${e.message}`).join('; ')}`);
        const service = new RetentionService({ rules, sweepMs: c.retention.sweep_interval, graceMs: c.retention.ttl_grace, sweep: c.retention.sweep, ledgerDatabase: c.database }, this.settings.logger, this.settings.metrics);
        await service.start({ exec: (sql) => store.command(sql), query: <T>(sql: string) => store.queryRows<T>(sql) });
        this.retentionService = service;
      }
      if (c.pipeline_stats) {
        const stats = new StatsWriter({ database: c.database, ttlMs: c.pipeline_stats_ttl, exec: (sql) => store.command(sql), metrics: this.settings.metrics, logger: this.settings.logger });
        await stats.start();
        this.stats = stats;
      }
      this.settings.logger.info('store open', { store: store.key, query_url: this.queryUrl });
    } catch (err) {
      this.lease = undefined;
      await lease.release();
      throw err;
    }
  }

  readonly shutdown = once(async () => {
    const q = this.query;
    const l = this.lease;
    const r = this.retentionService;
    this.retentionService = undefined;
    const st = this.stats;
    this.stats = undefined;
    // Extensions shut down after every pipeline component: the last minute's counts are final here.
    await st?.close();
    await r?.close();
    this.query = undefined;
    this.lease = undefined;
    await q?.release();
    await l?.release();
  });
}

export const clickhouseStoreFactory: ExtensionFactory<ClickHouseStoreConfig> = {
  kind: 'extension',
  type: 'clickhouse_store',
  schema: clickhouseStoreSchema,
  defaultConfig: defaultClickHouseStoreConfig,
  validate: validateClickHouseStore,
  create: (settings) => new ClickHouseStoreExtension(settings),
};
