/**
 * The correlate processor (shared: one instance sees the logs and the traces
 * pipelines). It holds payloads WHOLE for `wait` — never merged or split, so
 * a payload's `dedupToken` (Kafka offsets, insert dedup) stays true — while
 * indexing their spans per trace id. When a payload's window closes it
 * enriches the payload's log records with their span's context, links logs
 * without a trace id through the request id, writes the per-trace summary
 * contributions, and passes the payload on; its consume promise settles when
 * downstream accepted it and the summary rows were written.
 *
 * Never holding data hostage: a payload leaves when its window closes, on
 * shutdown, when the index exceeds `max_traces` (the least recently seen
 * trace is dropped and the payloads holding it flush early), when held items
 * exceed `max_items`, or when the heap exceeds `memory_limit`. Early flushes
 * are counted (trailhouse_correlate_early_flushes{reason}).
 */
import type { Component, CreateSettings, Host, LogsConsumer, NextConsumers, TracesConsumer } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { RefusedError } from '../../core/errors.ts';
import type { Signal } from '../../core/model.ts';
import type { AnyPayload, LogsPayload, TracesPayload } from '../../core/payload.ts';
import { processorMetrics, type Counter } from '../../core/telemetry/metrics.ts';
import { resolveAttributeMap } from '../../lib/mesh/fields.ts';
import type { AttributeMap } from '../../lib/mesh/attributes.ts';
import { openSqlStore, type SqlStoreHandle } from '../../lib/clickhouse/sql-store.ts';
import { resolveStore } from '../../lib/clickhouse/store-config.ts';
import { storeProvider } from '../../lib/clickhouse/provider.ts';
import { insertMetrics } from '../../lib/clickhouse/insert.ts';
import type { CorrelateConfig } from './config.ts';
import type { SummaryPart } from './enrich.ts';
import { indexTracesWalk, summarizeTracesView, summarizeTracesWalk } from './peek.ts';
import { enrichLogsView, indexLogsWalk } from './peek-logs.ts';
import { SpansView } from './held-view.ts';
import { forgetLogRecordsView, LogRecordsView, logRecordsView } from '../../core/otlp/log-records-view.ts';
import { walkSliced } from '../../core/yield.ts';
import { names, PARTS_COLUMNS, summaryStatements } from './schema.ts';
import { SummaryWriter } from './summary-writer.ts';
import { addPending, removePending, TraceIndex, type TraceEntry } from './trace-index.ts';

interface Held {
  signal: Signal;
  data: AnyPayload;
  items: number;
  deadline: number;
  entries: Set<TraceEntry>;
  /** What was read of its bytes, for the close (held-view.ts, core/otlp/log-records-view.ts); dropped when it is passed on. */
  view: LogRecordsView | SpansView | undefined;
  done: boolean;
  resolve(): void;
  reject(err: unknown): void;
}

type Reason = 'max_traces' | 'max_items' | 'memory' | 'shutdown';

/** Payloads being enriched and passed on at once (see pump). */
const DISPATCH = 2;
const NO_ENTRIES: Set<TraceEntry> = new Set();

export class CorrelateProcessor implements Component, LogsConsumer, TracesConsumer {
  readonly index: TraceIndex;
  private queue: Held[] = [];
  private head = 0;
  private heldItems = 0;
  /** Payloads whose window closed, waiting to be passed on (from readyHead). */
  private ready: Held[] = [];
  private readyHead = 0;
  private backlogItems = 0;
  private active = 0;
  private timer: NodeJS.Timeout | undefined;
  private lastMemCheck = 0;
  private stopped = false;
  private started = false;
  private store: SqlStoreHandle | undefined;
  private writer: SummaryWriter | undefined;
  private readonly inflight = new Set<Promise<void>>();
  /** The last hold being indexed, when any (holds are indexed one at a time: indexHeld). */
  private indexing: Promise<void> | undefined;
  private readonly fields: AttributeMap;
  private readonly m;
  private readonly early: Record<Reason, Counter>;
  private readonly evicted: Record<'max_traces' | 'memory', Counter>;
  private readonly enriched: Counter;
  private readonly linked: Counter;

  constructor(
    private readonly settings: CreateSettings<CorrelateConfig>,
    private readonly next: NextConsumers,
  ) {
    const cfg = settings.config;
    this.index = new TraceIndex(cfg.wait);
    this.fields = resolveAttributeMap({});
    const reg = settings.metrics;
    const id = settings.id;
    this.m = processorMetrics(reg, id);
    const c = (name: string, help: string, labels: Record<string, string> = {}) => reg.counter(name, help, { processor: id, ...labels });
    const earlyHelp = 'Payloads passed on before their window closed, by reason.';
    this.early = {
      max_traces: c('trailhouse_correlate_early_flushes', earlyHelp, { reason: 'max_traces' }),
      max_items: c('trailhouse_correlate_early_flushes', earlyHelp, { reason: 'max_items' }),
      memory: c('trailhouse_correlate_early_flushes', earlyHelp, { reason: 'memory' }),
      shutdown: c('trailhouse_correlate_early_flushes', earlyHelp, { reason: 'shutdown' }),
    };
    const evHelp = 'Traces dropped from the correlation index before they expired, by reason.';
    this.evicted = {
      max_traces: c('trailhouse_correlate_evicted_traces', evHelp, { reason: 'max_traces' }),
      memory: c('trailhouse_correlate_evicted_traces', evHelp, { reason: 'memory' }),
    };
    this.enriched = c('trailhouse_correlate_enriched_log_records', 'Log records enriched with their span context.');
    this.linked = c('trailhouse_correlate_linked_log_records', 'Log records without a trace id linked to a span through their request id.');
    const heldTraces = reg.gauge('trailhouse_correlate_held_traces', 'Traces in the correlation index.', { processor: id });
    const heldItems = reg.gauge('trailhouse_correlate_held_items', 'Spans and log records held in payloads waiting for their window.', { processor: id });
    const backlog = reg.gauge('trailhouse_correlate_backlog_items', 'Spans and log records whose window closed, waiting to be passed on downstream (new payloads are refused at max_items).', { processor: id });
    reg.onCollect(() => {
      heldTraces.set(this.index.size);
      heldItems.set(this.heldItems);
      backlog.set(this.backlogItems);
    });
  }

  /** Items held right now (tests, benchmarks). */
  get held(): { traces: number; items: number; payloads: number; backlog: number } {
    return { traces: this.index.size, items: this.heldItems, payloads: this.queue.length - this.head, backlog: this.backlogItems };
  }

  async start(host: Host): Promise<void> {
    const cfg = this.settings.config;
    if (cfg.summary) {
      this.store = openSqlStore(resolveStore(cfg, host), insertMetrics(this.settings.metrics));
      const { auditTableSql, databaseSql } = await import('../../lib/audit/schema.ts');
      await this.store.store.exec(databaseSql(cfg.database));
      // The store's retention policy, when it has one, decides the TTLs (the audit processor enforces audit_events').
      const retention = cfg.store ? storeProvider(host, cfg.store).retention : undefined;
      const plan = retention?.plan({ database: cfg.database, table: `${cfg.table}_parts`, ruleTable: cfg.table, kind: 'summary', writerTtlMs: cfg.ttl, writerTtlKey: 'processors.correlate.ttl' });
      const opts = { database: cfg.database, table: cfg.table, auditTable: cfg.audit_table, ttlMs: cfg.ttl, retention: plan?.ttl };
      if (cfg.audit_table) {
        // The audit MV reads audit_events: make sure it exists whichever processor starts first.
        const auditPlan = retention?.plan({ database: cfg.database, table: cfg.audit_table, ruleTable: cfg.audit_table, kind: 'audit', writerTtlMs: 0, writerTtlKey: '' });
        await this.store.store.exec(auditTableSql({ database: cfg.database, table: cfg.audit_table, ttlMs: 0, retention: auditPlan?.ttl }));
      }
      for (const sql of summaryStatements(opts)) await this.store.store.exec(sql);
      if (plan) await retention!.enforce(this.store.store, plan);
      this.writer = new SummaryWriter(this.store.store, names(opts).parts, PARTS_COLUMNS);
    }
    this.started = true;
  }

  consumeLogs(p: LogsPayload): Promise<void> {
    return this.hold(p);
  }

  consumeTraces(p: TracesPayload): Promise<void> {
    return this.hold(p);
  }

  private hold(data: AnyPayload): Promise<void> {
    const signal = data.signal;
    if (this.stopped || !this.started) return Promise.reject(new RefusedError('correlate processor is not running', 'shutting_down'));
    const items = data.count;
    this.m[signal].incoming.add(items);
    if (items === 0) return this.forward(data);
    if (this.backlogItems >= this.settings.config.max_items) {
      // Downstream is behind by a whole window's worth: the sender keeps the
      // payload (a queue retries it) until the backlog has been passed on.
      this.m[signal].refused.add(items);
      return Promise.reject(new RefusedError(`correlate: ${this.backlogItems} items wait to be passed on downstream`, 'queue_full'));
    }
    let held!: Held;
    const p = new Promise<void>((resolve, reject) => {
      held = { signal, data, items, deadline: 0, entries: NO_ENTRIES, view: undefined, done: false, resolve, reject };
    });
    // Holds are indexed one after the other (see indexHeld); one that finds
    // none before it starts now, and one done within a slice is held on return.
    const prev = this.indexing;
    const run = prev ? prev.then(() => this.indexHeld(held)) : this.indexHeld(held);
    if (run) {
      this.indexing = run;
      void run.then(() => {
        if (this.indexing === run) this.indexing = undefined;
      });
    }
    return p;
  }

  /**
   * Indexes a payload and queues it for its window. Part by part, handing
   * the event loop back between parts once a slice is used up
   * (core/yield.ts), so the receivers on the same thread keep answering
   * while a group of many requests is indexed; a payload indexed within one
   * slice is queued before this returns (undefined), else the promise
   * settles once it is. The payload joins the queue (and the entries'
   * pending lists) only once all of it is indexed, so its window cannot
   * close half indexed; holds run one at a time (the chain in hold), so
   * bounds are enforced between whole payloads and no eviction drops an
   * entry a payload is still filling. The entries it touched are fresh
   * (touched now), so expiry cannot take them meanwhile. Never rejects: a
   * failure rejects the payload's own promise.
   */
  private indexHeld(held: Held): Promise<void> | undefined {
    try {
      const now = Date.now();
      const cfg = this.settings.config;
      // A payload waits out its window as protobuf, indexed from it (peek.ts):
      // one that came as records is encoded now (or its records let go, when
      // bytes describe them), so the window holds no records for the collector
      // to trace, and enrichment has one path, from the bytes.
      const parts = held.data.toBytes();
      let walk;
      if (held.signal === 'traces') {
        // The close needs the view only to summarize.
        const view = this.writer ? new SpansView(parts) : undefined;
        held.view = view;
        walk = indexTracesWalk(parts, this.index, cfg.span_request_id_attributes, now, view);
      } else {
        // Shared with the classification before us (detect), which may still be walking: each part is read once between us.
        const view = logRecordsView(parts);
        held.view = view;
        walk = indexLogsWalk(view, this.index, now);
      }
      const entries = walkSliced(walk);
      if (!(entries instanceof Promise)) {
        this.queueHeld(held, entries, now);
        return undefined;
      }
      return entries.then((e) => this.queueHeld(held, e, now)).catch((err: unknown) => this.failHeld(held, err));
    } catch (err) {
      this.failHeld(held, err);
      return undefined;
    }
  }

  private queueHeld(held: Held, entries: Set<TraceEntry>, now: number): void {
    held.entries = entries;
    held.deadline = now + this.settings.config.wait;
    for (const e of entries) addPending(e, held);
    this.queue.push(held);
    this.heldItems += held.items;
    this.enforceBounds(now);
    this.schedule();
  }

  private failHeld(held: Held, err: unknown): void {
    this.m[held.signal].refused.add(held.items);
    held.reject(err);
  }

  private enforceBounds(now: number): void {
    const cfg = this.settings.config;
    while (this.index.size > cfg.max_traces) {
      const e = this.index.oldest()!;
      if (e.pending.length) this.flush(e.pending.slice() as Held[], 'max_traces');
      this.index.delete(e);
      this.evicted.max_traces.add(1);
    }
    while (this.heldItems > cfg.max_items) {
      while (this.queue[this.head]!.done) this.head++;
      this.flush([this.queue[this.head]!], 'max_items');
    }
    if (cfg.memory_limit > 0 && now - this.lastMemCheck >= 200) {
      this.lastMemCheck = now;
      if (process.memoryUsage().heapUsed > cfg.memory_limit) {
        const live = this.queue.slice(this.head).filter((h) => !h.done);
        this.flush(live.slice(0, Math.ceil(live.length / 2)), 'memory');
        let drop = Math.ceil(this.index.size / 2);
        for (const e of [...this.index.entries()]) {
          if (drop-- <= 0) break;
          if (e.pending.length === 0) {
            this.index.delete(e);
            this.evicted.memory.add(1);
          }
        }
      }
    }
  }

  private schedule(): void {
    if (this.timer || this.stopped) return;
    while (this.head < this.queue.length && this.queue[this.head]!.done) this.head++;
    const first = this.queue[this.head];
    if (!first) return;
    this.timer = setTimeout(() => this.onTimer(), Math.max(0, first.deadline - Date.now()));
  }

  private onTimer(): void {
    this.timer = undefined;
    const now = Date.now();
    const due: Held[] = [];
    while (this.head < this.queue.length) {
      const h = this.queue[this.head]!;
      if (!h.done) {
        if (h.deadline > now) break;
        due.push(h);
      }
      this.head++;
    }
    // Compact once the consumed prefix dominates, so the array does not grow forever.
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.head);
      this.head = 0;
    }
    if (due.length) this.flush(due);
    this.index.expire(now);
    this.schedule();
  }

  /**
   * Closes the window of `list` (payloads already flushed are skipped): they
   * leave the index and queue up to be passed on, at most DISPATCH at a time.
   */
  private flush(list: Held[], reason?: Reason): void {
    const live = list.filter((h) => !h.done);
    if (!live.length) return;
    if (reason) this.early[reason].add(live.length);
    for (const h of live) {
      h.done = true;
      this.heldItems -= h.items;
      this.backlogItems += h.items;
      // Its traces stay indexed (expire skips them) until it is enriched: dispatch.
      this.ready.push(h);
    }
    this.pump();
  }

  /**
   * Passes on ready payloads while fewer than DISPATCH are downstream. A
   * payload waits out its window as protobuf (hold) and leaves as protobuf
   * with its enrichment as patches; whatever builds records from it after
   * (audit's views, a stage reading records) does so while it is in flight.
   * Bounding how many are in flight at once keeps a window that closes on
   * hundreds of thousands of records from being walked and viewed all at
   * once (every object made promoted, then marked again and again by V8's
   * collector).
   */
  private pump(): void {
    while (this.active < DISPATCH && this.readyHead < this.ready.length) {
      const h = this.ready[this.readyHead]!;
      this.ready[this.readyHead++] = undefined as unknown as Held;
      if (this.readyHead === this.ready.length) {
        this.ready = [];
        this.readyHead = 0;
      }
      this.dispatch(h);
    }
  }

  /** Lets the index drop `h`'s traces once expired. */
  private release(h: Held): void {
    for (const e of h.entries) {
      removePending(e, h);
    }
    h.entries = NO_ENTRIES;
  }

  /** Enriches and summarizes one payload, passes it on, and settles its consume promise. */
  private dispatch(h: Held): void {
    this.active++;
    const p = this.enrich(h).then((rs) => {
      const failed = rs.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      this.active--;
      this.backlogItems -= h.items;
      h.data = undefined as unknown as AnyPayload; // the queue may keep the Held a while: not its records
      if (failed) {
        this.m[h.signal].refused.add(h.items);
        h.reject(failed.reason);
      } else {
        this.m[h.signal].outgoing.add(h.items);
        h.resolve();
      }
      this.pump();
    });
    this.inflight.add(p);
    void p.finally(() => this.inflight.delete(p));
  }

  /**
   * Enriches (logs) or summarizes (spans) `h` part by part, handing the
   * event loop back between parts once a slice is used up (core/yield.ts),
   * then passes it on and writes its summary rows. Never rejects: the
   * outcomes are returned.
   */
  private async enrich(h: Held): Promise<PromiseSettledResult<unknown>[]> {
    try {
      const parts = new Map<string, SummaryPart>();
      if (h.signal === 'logs') {
        const counts = { enriched: 0, linked: 0 };
        const logs = h.data as LogsPayload;
        // The records stay bytes: their enrichment travels as patches, which
        // the stages after read with them (audit, the clickhouse exporter) or
        // apply when they build the records.
        const bytes = logs.toBytes();
        // Read from what indexing kept while the payload is the bytes it indexed (it always is: nothing else holds it).
        const view = h.view instanceof LogRecordsView && h.view.parts === bytes ? h.view : new LogRecordsView(bytes);
        const patches = await walkSliced(enrichLogsView(view, this.index, this.fields, counts, this.writer ? parts : undefined));
        forgetLogRecordsView(bytes);
        if (patches) logs.patch(patches);
        this.enriched.add(counts.enriched);
        this.linked.add(counts.linked);
      } else if (this.writer) {
        // Spans are summarized from their bytes and stay bytes: the
        // clickhouse exporter encodes them without records.
        const bytes = h.data.toBytes();
        await walkSliced(h.view instanceof SpansView && h.view.parts === bytes ? summarizeTracesView(h.view, parts) : summarizeTracesWalk(bytes, parts));
      }
      h.view = undefined;
      this.release(h); // enriched: its traces may expire now
      return await Promise.allSettled([this.forward(h.data), this.writer ? this.writer.add(parts) : undefined]);
    } catch (err) {
      h.view = undefined;
      this.release(h); // failed: its traces may expire now
      return [{ status: 'rejected', reason: err }];
    }
  }

  private forward(data: AnyPayload): Promise<void> {
    try {
      return data.isLogs() ? this.next.logs!.consumeLogs(data) : this.next.traces!.consumeTraces(data as TracesPayload);
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** Passes on everything held, waits for downstream, then releases the store. */
  readonly shutdown = once(async () => {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // Payloads still being indexed join the queue first, so they flush too.
    while (this.indexing) await this.indexing;
    this.flush(this.queue.slice(this.head), 'shutdown');
    this.queue = [];
    this.head = 0;
    while (this.inflight.size) await Promise.allSettled([...this.inflight]);
    await this.writer?.drain();
    await this.store?.release();
  });
}
