/**
 * The `alerts` extension: takes detectors' signals (lib/detect/signal.ts)
 * through `alertsProvider(host, id).sink()`, folds repeats into one alert per
 * key (lib/alerts/book.ts), stores every version in `audit_alerts`
 * (lib/alerts/writer.ts, batched), delivers each version to the configured
 * targets through persistent queues (lib/alerts/delivery/), runs the
 * brute-force detector over the process's refused logins
 * (lib/alerts/bruteforce.ts), and serves triage on the store's query
 * interface (lib/alerts/triage.ts).
 *
 * `raise` never blocks and never throws: the book is in memory, the store
 * write and the deliveries happen behind it, their failures are counted.
 */
import type { Component, CreateSettings, ExtensionFactory, Host } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { nowNanos } from '../../core/security-events.ts';
import type { Counter, Gauge } from '../../core/telemetry/metrics.ts';
import { storeProvider } from '../../lib/clickhouse/provider.ts';
import { openStore, type StoreLease } from '../../lib/clickhouse/store.ts';
import { insertWithPolicy } from '../../lib/clickhouse/insert.ts';
import { insertMetrics } from '../../lib/clickhouse/insert.ts';
import { DETECTORS, type AlertSignal, type AlertSink } from '../../lib/detect/signal.ts';
import { signalProblem, withStatus, type Alert, type AlertStatus } from '../../lib/alerts/alert.ts';
import { AlertBook } from '../../lib/alerts/book.ts';
import { alertFromRow, alertsTableName, alertsTableSql, selectAlertsSql, sqlString } from '../../lib/alerts/table.ts';
import { AlertWriter } from '../../lib/alerts/writer.ts';
import { openDeliveries, type Deliveries } from '../../lib/alerts/delivery/deliveries.ts';
import { BruteforceDetector } from '../../lib/alerts/bruteforce.ts';
import { TriageError, type TriageService } from '../../lib/alerts/triage.ts';
import { attachTriage } from './attach-triage.ts';
import { alertsSchema, defaultAlertsConfig, validateAlerts, type AlertsConfig } from './config.ts';
import type { AlertsProvider } from '../../lib/alerts/provider.ts';

const MS_NS = 1_000_000n;

export class AlertsExtension implements Component, AlertsProvider, TriageService {
  readonly kind = 'alerts';
  private lease: StoreLease | undefined;
  private table = '';
  private book: AlertBook;
  private writer: AlertWriter | undefined;
  private deliveries: Deliveries | undefined;
  private bruteforce: BruteforceDetector | undefined;
  private detachTriage: (() => void) | undefined;
  private pruneTimer: NodeJS.Timeout | undefined;
  private updateTimer: NodeJS.Timeout | undefined;
  /** Repeats not delivered yet: the newest version of each alert, delivered every update_interval. */
  private dirty = new Map<string, Alert>();
  private running = false;
  private readonly raised: Record<string, Counter> = {};
  private readonly signals: Record<string, Counter> = {};
  private readonly lost: Counter;
  private readonly openGauge: Gauge;
  private readonly sinkObject: AlertSink = { raise: (s) => this.raise(s) };

  constructor(private readonly settings: CreateSettings<AlertsConfig>) {
    const c = settings.config;
    this.book = new AlertBook(BigInt(c.repeat_window) * MS_NS, c.max_open);
    const m = settings.metrics;
    for (const d of DETECTORS) {
      this.raised[d] = m.counter('trailhouse_alerts_opened', 'Alerts opened, by detector (a repeat of an open alert updates it instead).', { detector: d });
      this.signals[d] = m.counter('trailhouse_alerts_signals', 'Signals raised by detectors, by detector.', { detector: d });
    }
    this.lost = m.counter('trailhouse_alerts_not_stored', 'Alert versions the store refused for good (malformed) or that failed at shutdown.');
    this.openGauge = m.gauge('trailhouse_alerts_tracked', 'Open alerts taking repeats (within the repeat window).');
    const evicted = m.counter('trailhouse_alerts_evicted', 'Open alerts let go to stay within max_open (their next signal opens a new alert).');
    m.onCollect(() => {
      this.openGauge.set(this.book.size);
      evicted.add(this.book.evicted - evicted.value);
    });
  }

  sink(): AlertSink {
    return this.sinkObject;
  }

  async start(host: Host): Promise<void> {
    const c = this.settings.config;
    const provider = storeProvider(host, c.store);
    const lease = openStore(provider.storeOptions());
    this.lease = lease;
    try {
      const store = lease.store;
      await store.ready();
      this.table = alertsTableName(c.database, c.table);
      await store.command(`CREATE DATABASE IF NOT EXISTS ${c.database}`);
      await store.command(alertsTableSql(this.table));
      const since = nowNanos() - BigInt(c.repeat_window) * MS_NS;
      const rows = await store.queryRows<Record<string, unknown>>(selectAlertsSql(this.table, `Status != 'resolved' AND LastSeen >= fromUnixTimestamp64Nano(toInt64(${since}))`));
      const loaded: Alert[] = [];
      for (const r of rows) {
        try {
          loaded.push(alertFromRow(r));
        } catch (err) {
          this.settings.logger.warn('an open alert in the store does not read back; it will not take repeats', { error: err });
        }
      }
      this.book.load(loaded);
      const metrics = insertMetrics(this.settings.metrics);
      this.writer = new AlertWriter(
        (body, n, token) =>
          insertWithPolicy(store, { table: this.table, format: 'JSONEachRow', body: Buffer.from(body, 'utf8'), settings: { insert_deduplication_token: token } }, n, undefined, metrics),
        { flushMs: c.flush_interval, retryInitialMs: c.retry.initial_interval, retryMaxMs: c.retry.max_interval },
        this.settings.logger,
        this.lost,
      );
      this.deliveries = await openDeliveries(c, host, this.settings);
      this.deliveries?.resendFiring(() => this.book.open());
      this.running = true;
      if (c.bruteforce.enabled) this.bruteforce = BruteforceDetector.subscribe(c.bruteforce, this.sinkObject);
      this.detachTriage = attachTriage(provider, this, this.settings.logger);
      const prune = Math.min(c.repeat_window, 60_000);
      this.pruneTimer = setInterval(() => this.book.prune(nowNanos()), prune);
      this.pruneTimer.unref();
      if (this.deliveries) {
        this.updateTimer = setInterval(() => this.deliverRepeats(), c.update_interval);
        this.updateTimer.unref();
      }
      this.settings.logger.info('alerts ready', { table: this.table, open: this.book.size, targets: this.deliveries?.targets ?? [] });
    } catch (err) {
      await this.shutdown();
      throw err;
    }
  }

  raise(s: AlertSignal): void {
    try {
      if (!this.running) {
        this.settings.logger.warn('alert signal after shutdown, not stored', { detector: s.detector, key: s.key });
        this.lost.add(1);
        return;
      }
      const problem = signalProblem(s);
      if (problem) {
        this.lost.add(1);
        this.settings.logger.error('alert signal refused', { reason: problem });
        return;
      }
      this.signals[s.detector]?.add(1);
      const { alert: a, opened } = this.book.raise(s);
      if (opened) this.raised[a.detector]?.add(1);
      this.writer!.add(a);
      if (!this.deliveries) return;
      // A new alert goes out now; repeats of it go out as its newest version every update_interval.
      if (opened) this.deliveries.enqueue(a);
      else this.dirty.set(a.id, a);
    } catch (err) {
      this.lost.add(1);
      this.settings.logger.error('alert signal not taken', { detector: (s as AlertSignal | null)?.detector, error: err });
    }
  }

  /** The newest stored version of an alert: the book's, else the store's. */
  async find(id: string): Promise<Alert | undefined> {
    const held = this.book.byId(id);
    if (held) return held;
    const rows = await this.lease!.store.queryRows<Record<string, unknown>>(selectAlertsSql(this.table, `Id = ${sqlString(id)}`));
    return rows.length ? alertFromRow(rows[0]!) : undefined;
  }

  /** A status change by `by` (an authenticated user): stored before it returns, then delivered. */
  async setStatus(id: string, status: AlertStatus, by: string, note: string): Promise<{ before: Alert; after: Alert }> {
    if (!this.running) throw new TriageError(503, 'the alerts extension is shutting down');
    const before = await this.find(id);
    if (!before) throw new TriageError(404, `no alert ${id}`);
    if (before.status === 'resolved') throw new TriageError(409, `alert ${id} is already resolved`);
    if (before.status === status) throw new TriageError(409, `alert ${id} is already ${status}`);
    let after = withStatus(before, status, by, note, nowNanos());
    await this.writer!.write(after);
    // A repeat may have made a newer version meanwhile: it carries the status too.
    const current = this.book.byId(id);
    if (current && current.version > after.version) {
      after = withStatus(current, status, by, note, after.statusAt);
      this.writer!.add(after);
    }
    this.book.update(after);
    this.dirty.delete(id);
    this.deliveries?.enqueue(after);
    return { before, after };
  }

  /** Stores what is buffered now (tests, and callers that must read their alert back). */
  flushForTest(): Promise<void> {
    return this.writer?.flush() ?? Promise.resolve();
  }

  private deliverRepeats(): void {
    if (!this.dirty.size) return;
    const due = this.dirty;
    this.dirty = new Map();
    for (const a of due.values()) this.deliveries?.enqueue(a);
  }

  readonly shutdown = once(async () => {
    this.running = false;
    clearInterval(this.pruneTimer);
    clearInterval(this.updateTimer);
    this.deliverRepeats();
    this.detachTriage?.();
    this.bruteforce?.close();
    await this.writer?.close();
    await this.deliveries?.close();
    const l = this.lease;
    this.lease = undefined;
    await l?.release();
  });
}

export const alertsFactory: ExtensionFactory<AlertsConfig> = {
  kind: 'extension',
  type: 'alerts',
  schema: alertsSchema,
  defaultConfig: defaultAlertsConfig,
  validate: validateAlerts,
  create: (settings) => new AlertsExtension(settings),
};
