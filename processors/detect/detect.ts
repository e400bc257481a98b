/**
 * The detect processor (shared: one instance in the logs pipeline, before
 * `correlate`, and in the traces pipeline). It classifies each logs payload
 * with the audit processor's rules (the same events, the same event ids:
 * processors/audit/event-id.ts), feeds the events to the detectors
 * (engine.ts) and notes which services sent logs or spans (source_silent).
 *
 * The payload is handed on at once and untouched (bar a dedup token when it
 * had none, so both taps name events alike); its consume promise is the next
 * stage's. Detection runs beside it and never fails or holds a payload: its
 * errors are counted and logged. State is written to the store every
 * `persist_interval` and at shutdown, read (merged over every ingester's
 * rows) at start and on each persist.
 */
import { hostname } from 'node:os';
import type { Component, CreateSettings, Host, LogsConsumer, NextConsumers, TracesConsumer } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { RefusedError } from '../../core/errors.ts';
import type { LogsPayload, TracesPayload } from '../../core/payload.ts';
import type { Counter } from '../../core/telemetry/metrics.ts';
import { processorMetrics } from '../../core/telemetry/metrics.ts';
import { DETECTORS, type AlertSink, type DetectorName } from '../../lib/detect/signal.ts';
import { openSqlStore, type SqlStoreHandle } from '../../lib/clickhouse/sql-store.ts';
import { storeProvider } from '../../lib/clickhouse/provider.ts';
import { insertMetrics } from '../../lib/clickhouse/insert.ts';
import { classifyPayloadSliced } from '../../lib/audit/classify-payload.ts';
import { compileRules, type CompiledRules } from '../../lib/audit/classify.ts';
import { defaultAuditRules } from '../../lib/audit/rules.ts';
import { ensureDedupToken } from '../../lib/audit/event-id.ts';
import { auditRulesOf } from '../../lib/audit/shared-rules.ts';
import { rememberClassified } from '../../lib/audit/reuse.ts';
import type { DetectConfig } from './config.ts';
import { DetectEngine } from './engine.ts';
import { eachServiceName } from './services.ts';
import { alertSinkOf } from './sink.ts';
import { StateTable, type StateRow } from './state-table.ts';

/** Dedup tokens of payloads already looked at (a redelivery is not counted twice). */
const SEEN_TOKENS = 10_000;
/** Other ingesters' rows are read again from this long before the newest one seen. */
const SYNC_MARGIN_MS = 60_000;
/** How soon state is written after a signal or the end of learning. */
const PERSIST_SOON_MS = 200;

export class DetectProcessor implements Component, LogsConsumer, TracesConsumer {
  engine: DetectEngine | undefined;
  private rules: CompiledRules | undefined;
  private store: SqlStoreHandle | undefined;
  private table: StateTable | undefined;
  private timers: NodeJS.Timeout[] = [];
  private stopped = false;
  private readonly inflight = new Set<Promise<void>>();
  private readonly seenTokens = new Set<string>();
  /** Rows a failed write left; written with the next persist. */
  private pending: StateRow[] = [];
  private lastSync = 0;
  private soon: NodeJS.Timeout | undefined;
  private persisting: Promise<void> | undefined;
  private readonly m;
  private readonly signals = new Map<DetectorName, Counter>();
  private readonly evictions = new Map<DetectorName, Counter>();
  private readonly errors: Counter;
  private readonly events: Counter;

  constructor(
    private readonly settings: CreateSettings<DetectConfig>,
    private readonly next: NextConsumers,
    /** Tests: a clock and a sink instead of the alerts extension. */
    private readonly opts: { now?: () => number; sink?: AlertSink } = {},
  ) {
    const reg = settings.metrics;
    const id = settings.id;
    this.m = processorMetrics(reg, id);
    for (const d of DETECTORS) {
      this.signals.set(d, reg.counter('trailhouse_detect_signals', 'Signals raised by a detector (the alerts side turns repeats into counts).', { processor: id, detector: d }));
      this.evictions.set(d, reg.counter('trailhouse_detect_evictions', 'Detector keys forgotten to stay within max_keys (least recently seen first).', { processor: id, detector: d }));
    }
    this.errors = reg.counter('trailhouse_detect_errors', 'Payloads whose detection failed (the payload itself went on), and state writes that failed.', { processor: id });
    this.events = reg.counter('trailhouse_detect_events', 'Audit events looked at by the detectors.', { processor: id });
    const keys = new Map(DETECTORS.map((d) => [d, reg.gauge('trailhouse_detect_keys', 'Keys a detector tracks now.', { processor: id, detector: d })]));
    reg.onCollect(() => {
      for (const [d, n] of this.engine?.sizes() ?? []) keys.get(d)!.set(n);
    });
  }

  async start(host: Host): Promise<void> {
    const c = this.settings.config;
    this.rules = c.rules_from ? auditRulesOf(host, c.rules_from) : compileRules(defaultAuditRules());
    const sink = this.opts.sink ?? alertSinkOf(host, c.alerts, this.settings.logger);
    this.engine = new DetectEngine(c, this.rules, sink, this.opts.now ?? Date.now, {
      raised: (d) => {
        this.signals.get(d)!.add(1);
        this.persistSoon();
      },
      evicted: (d) => this.evictions.get(d)!.add(1),
      learned: () => this.persistSoon(),
    });
    if (c.store) {
      this.store = openSqlStore(storeProvider(host, c.store).storeOptions(), insertMetrics(this.settings.metrics));
      this.table = new StateTable(this.store.store, c.database, c.table, c.ingester || hostname());
      await this.table.create();
      const rows = await this.table.load(0, false);
      this.engine.load(rows);
      this.lastSync = rows.reduce((m, r) => Math.max(m, r.updated), 0);
      this.settings.logger.info('detector state loaded', { rows: rows.length, learning_until: new Date(this.engine.learningStarted + c.learning_period).toISOString() });
      // The learning start is on record at once: a crash before the first persist does not restart learning.
      await this.persistOnce();
    }
    const every = (ms: number, fn: () => void) => {
      const t = setInterval(fn, ms);
      t.unref();
      this.timers.push(t);
    };
    const tick = () => {
      try {
        this.engine!.tick();
      } catch (err) {
        this.failed(err);
      }
    };
    if (this.engine.silent) every(Math.max(250, Math.min(c.detectors.source_silent.gap / 4, 10_000)), tick);
    if (this.table) every(c.persist_interval, () => void this.persist().catch((err: unknown) => this.failed(err)));
  }

  consumeLogs(data: LogsPayload): Promise<void> {
    if (this.stopped || !this.engine) return Promise.reject(new RefusedError('detect processor is not running', 'shutting_down'));
    const n = data.count;
    this.m.logs.incoming.add(n);
    const token = ensureDedupToken(data);
    const fresh = this.firstLook(token);
    if (fresh) this.sightings(data);
    // Classified as it arrives (bytes are not changed by later stages: they add patches), beside the next stage.
    let rows: ReturnType<typeof classifyPayloadSliced> | undefined;
    if (fresh) {
      try {
        // Leaving where each record's fields lie, so correlate does not walk the bytes again.
        rows = classifyPayloadSliced(data, this.rules!, undefined, true);
        // The audit processor after correlate takes these rows instead of classifying again.
        rememberClassified(data, this.rules!, rows);
      } catch (err) {
        this.failed(err);
      }
    }
    const out = this.next.logs!.consumeLogs(data);
    if (rows) {
      const p = Promise.resolve(rows)
        .then((r) => {
          this.events.add(r.length);
          this.engine!.observe(r);
        })
        .catch((err: unknown) => this.failed(err));
      this.inflight.add(p);
      void p.finally(() => this.inflight.delete(p));
    }
    return out.then(
      () => this.m.logs.outgoing.add(n),
      (err: unknown) => {
        this.m.logs.refused.add(n);
        throw err;
      },
    );
  }

  consumeTraces(data: TracesPayload): Promise<void> {
    if (this.stopped || !this.engine) return Promise.reject(new RefusedError('detect processor is not running', 'shutting_down'));
    const n = data.count;
    this.m.traces.incoming.add(n);
    this.sightings(data);
    return this.next.traces!.consumeTraces(data).then(
      () => this.m.traces.outgoing.add(n),
      (err: unknown) => {
        this.m.traces.refused.add(n);
        throw err;
      },
    );
  }

  private sightings(data: LogsPayload | TracesPayload): void {
    const engine = this.engine!;
    if (!engine.silent) return;
    try {
      eachServiceName(data, (s) => engine.seen(s));
    } catch (err) {
      this.failed(err);
    }
  }

  private firstLook(token: string): boolean {
    if (this.seenTokens.has(token)) return false;
    this.seenTokens.add(token);
    if (this.seenTokens.size > SEEN_TOKENS) this.seenTokens.delete(this.seenTokens.values().next().value as string);
    return true;
  }

  private failed(err: unknown): void {
    this.errors.add(1);
    this.settings.logger.error('detection failed (the payload went on)', { error: err });
  }

  /**
   * A signal was raised or learning ended: the state behind it is written
   * within PERSIST_SOON_MS, not at the next interval, so a crash does not
   * make the spool's replay of the same records alert again (or find
   * learned keys new).
   */
  private persistSoon(): void {
    if (!this.table || this.soon || this.stopped) return;
    this.soon = setTimeout(() => {
      this.soon = undefined;
      this.persist().catch((err: unknown) => this.failed(err));
    }, PERSIST_SOON_MS);
    this.soon.unref();
  }

  /** Writes what changed, then merges what other ingesters wrote since the last time. */
  persist(): Promise<void> {
    return (this.persisting ??= this.persistOnce().finally(() => (this.persisting = undefined)));
  }

  private async persistOnce(): Promise<void> {
    const table = this.table;
    const engine = this.engine;
    if (!table || !engine) return;
    const rows = [...this.pending, ...engine.takeDirty()];
    this.pending = [];
    const now = engine.now();
    try {
      await table.write(rows, now);
    } catch (err) {
      this.pending = rows;
      this.failed(err);
      return;
    }
    try {
      // Rows are merged, so reading some twice is harmless: a margin covers ingesters whose clocks lag ours.
      const others = await table.load(Math.max(0, this.lastSync - SYNC_MARGIN_MS), true);
      engine.load(others);
      for (const r of others) this.lastSync = Math.max(this.lastSync, r.updated);
    } catch (err) {
      this.failed(err);
    }
  }

  readonly shutdown = once(async () => {
    this.stopped = true;
    for (const t of this.timers) clearInterval(t);
    clearTimeout(this.soon);
    await Promise.allSettled([...this.inflight]);
    await this.persisting?.catch(() => {});
    if (this.table && this.engine) await this.persistOnce();
    await this.store?.release();
  });
}
