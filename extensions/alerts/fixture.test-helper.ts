/**
 * Test fixture: a real store (clickhouse_store on the embedded engine, with
 * its query interface), a real file_storage and an alerts extension over
 * them, built and started as the service would, restartable.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ClickHouseStoreExtension, defaultClickHouseStoreConfig, type ClickHouseStoreConfig } from '../clickhouse_store/index.ts';
import { FileStorageExtension } from '../file_storage/file-storage.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import type { Host } from '../../core/component.ts';
import { testLogger } from '../../test/helpers.ts';
import type { AlertSignal } from '../../lib/detect/signal.ts';
import { AlertsExtension } from './alerts.ts';
import { defaultAlertsConfig, type AlertsConfig } from './config.ts';

export interface Fixture {
  dir: string;
  store: ClickHouseStoreExtension;
  files: FileStorageExtension;
  alerts: AlertsExtension;
  metrics: MetricsRegistry;
  host: Host;
  rows<T>(sql: string): Promise<T[]>;
  /** Shuts the alerts extension down and starts a new one over the same store and queues. */
  restartAlerts(config?: Partial<AlertsConfig>): Promise<AlertsExtension>;
  stop(): Promise<void>;
}

export async function startFixture(config: Partial<AlertsConfig> = {}, store: Partial<ClickHouseStoreConfig> = {}, logLines: string[] = [], at?: string): Promise<Fixture> {
  const dir = at ?? mkdtempSync(join(tmpdir(), 'th-alerts-'));
  const metrics = new MetricsRegistry();
  const logger = testLogger(logLines);
  const storeExt = new ClickHouseStoreExtension({ id: 'clickhouse_store', config: { ...defaultClickHouseStoreConfig(), path: dir, query_endpoint: '127.0.0.1:0', query_log: false, ...store }, logger, metrics });
  const files = new FileStorageExtension({ id: 'file_storage', config: { directory: join(dir, 'queue'), fsync: true }, logger, metrics });
  const exts: Record<string, unknown> = { clickhouse_store: storeExt, file_storage: files };
  const host: Host = { logger, metrics, getExtension: (id) => exts[id] as never, reportFatal: () => undefined };
  await storeExt.start();
  await files.start();
  const make = async (c: Partial<AlertsConfig>) => {
    const a = new AlertsExtension({ id: 'alerts', config: { ...defaultAlertsConfig(), flush_interval: 50, ...c }, logger, metrics });
    await a.start(host);
    exts.alerts = a;
    return a;
  };
  const f: Fixture = {
    dir,
    store: storeExt,
    files,
    alerts: await make(config),
    metrics,
    host,
    rows: <T>(sql: string) => storeExt.store!.queryRows<T>(sql),
    restartAlerts: async (c = config) => {
      await f.alerts.shutdown();
      f.alerts = await make(c);
      return f.alerts;
    },
    stop: async () => {
      await f.alerts.shutdown();
      await files.shutdown();
      await storeExt.shutdown();
    },
  };
  return f;
}

let n = 0;
export function signal(over: Partial<AlertSignal> = {}): AlertSignal {
  n++;
  return {
    detector: 'deny_surge',
    severity: 'warning',
    key: 'deny_surge|principal|spiffe://cluster.local/ns/shop/sa/cart',
    time: BigInt(Date.now()) * 1_000_000n,
    principal: 'spiffe://cluster.local/ns/shop/sa/cart',
    source: '10.0.0.7',
    destination: 'payments',
    resource: '/charge',
    reason: '40 denials in 1m (baseline 2)',
    count: 1,
    evidence: { eventIds: [`ev${n}`], traceIds: [n.toString(16).padStart(32, '0')] },
    details: { window: '1m' },
    ...over,
  };
}
