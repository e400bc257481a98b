/**
 * Self-telemetry metrics, declared in one place and exposed in Prometheus text
 * format. Names and labels are the OpenTelemetry Collector's own as its 0.165
 * metrics endpoint prints them by default
 * (`otelcol_receiver_accepted_log_records{receiver="otlp",transport="grpc"}`:
 * its prometheus reader defaults to `without_type_suffix: true`, so counters
 * carry no `_total`; `without_type_suffix: false` adds it, here as there), so
 * dashboards built for the Collector read ours. Metrics of our own start
 * with `trailhouse_`.
 */
import { LatencyWindow } from './latency-window.ts';

export type Labels = Record<string, string>;

interface Series {
  labels: Labels;
  value: number;
  /** Taken from another thread's registry (absorb): not this registry's to hand on. */
  remote?: boolean;
}

class Family {
  readonly series = new Map<string, Series>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
  ) {}

  get(labels: Labels): Series {
    const key = labelKey(labels);
    let s = this.series.get(key);
    if (!s) {
      // Printed in name order, as the Collector's endpoint prints them.
      s = { labels: Object.fromEntries(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))), value: 0 };
      this.series.set(key, s);
    }
    return s;
  }
}

function labelKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export interface Counter {
  add(n: number): void;
  readonly value: number;
}

export interface Gauge {
  set(n: number): void;
  readonly value: number;
}

/** A registry's series as plain data, to carry to another thread (MetricsRegistry.snapshot / absorb). */
export type MetricsSnapshot = Array<{ name: string; help: string; type: 'counter' | 'gauge'; series: Array<{ labels: Labels; value: number }> }>;

export class MetricsRegistry {
  private readonly families = new Map<string, Family>();
  private readonly collectors: Array<() => void> = [];
  private readonly remote: Array<() => Promise<MetricsSnapshot>> = [];
  private collecting: Promise<void> | undefined;

  private family(name: string, help: string, type: 'counter' | 'gauge'): Family {
    let f = this.families.get(name);
    if (!f) {
      f = new Family(name, help, type);
      this.families.set(name, f);
    }
    return f;
  }

  /** A monotonic counter. `name` without a `_total` suffix, which exposition adds only when asked to. */
  counter(name: string, help: string, labels: Labels = {}): Counter {
    const series = this.family(name, help, 'counter').get(labels);
    return {
      add: (n: number) => {
        series.value += n;
      },
      get value() {
        return series.value;
      },
    };
  }

  gauge(name: string, help: string, labels: Labels = {}): Gauge {
    const series = this.family(name, help, 'gauge').get(labels);
    return {
      set: (n: number) => {
        series.value = n;
      },
      get value() {
        return series.value;
      },
    };
  }

  /** Runs before each exposition, to refresh gauges sampled on demand. */
  onCollect(fn: () => void): void {
    this.collectors.push(fn);
  }

  /**
   * Another registry whose series this one shows (the pipeline thread's,
   * core/pipeline-thread.ts): read by `collect` before each exposition.
   */
  mirror(read: () => Promise<MetricsSnapshot>): void {
    this.remote.push(read);
  }

  /**
   * Brings mirrored series up to date (a mirror that cannot answer keeps its
   * last values). Scrapes arriving meanwhile share the reading in flight: a
   * burst of them asks the other thread once.
   */
  collect(): Promise<void> {
    return (this.collecting ??= (async () => {
      try {
        for (const read of this.remote) {
          const snap = await read().catch(() => undefined);
          if (snap) this.absorb(snap);
        }
      } finally {
        this.collecting = undefined;
      }
    })());
  }

  /**
   * This registry's own series (none absorbed from another), after the
   * collectors ran (they bring sampled series up to date, e.g. a sliding
   * window's quantiles) unless `collect: false`.
   */
  snapshot(opts: { collect?: boolean } = {}): MetricsSnapshot {
    if (opts.collect !== false) for (const c of this.collectors) c();
    const out: MetricsSnapshot = [];
    for (const f of this.families.values()) {
      const series = [...f.series.values()].filter((s) => !s.remote).map((s) => ({ labels: s.labels, value: s.value }));
      if (series.length) out.push({ name: f.name, help: f.help, type: f.type, series });
    }
    return out;
  }

  /** Takes the values of another registry's series (same name and labels: the other's value wins). */
  absorb(snap: MetricsSnapshot): void {
    for (const f of snap) {
      const fam = this.family(f.name, f.help, f.type);
      for (const s of f.series) {
        const mine = fam.get(s.labels);
        mine.value = s.value;
        mine.remote = true;
      }
    }
  }

  /** Current value of a series, for tests and health checks (0 when absent). */
  read(name: string, labels: Labels = {}): number {
    return this.families.get(name)?.series.get(labelKey(labels))?.value ?? 0;
  }

  /** Sum over all series of a family whose labels include `match`. */
  sum(name: string, match: Labels = {}): number {
    const f = this.families.get(name);
    if (!f) return 0;
    let total = 0;
    for (const s of f.series.values()) {
      if (Object.entries(match).every(([k, v]) => s.labels[k] === v)) total += s.value;
    }
    return total;
  }

  /** Every series of the families whose name starts with `prefix` (read-only view, for periodic snapshots). */
  forEachSeries(prefix: string, fn: (name: string, labels: Readonly<Labels>, value: number) => void): void {
    for (const f of this.families.values()) if (f.name.startsWith(prefix)) for (const s of f.series.values()) fn(f.name, s.labels, s.value);
  }

  /** The text format; `typeSuffix`: counters end in `_total` (the prometheus reader's `without_type_suffix: false`). */
  exposition(opts: { typeSuffix?: boolean } = {}): string {
    for (const c of this.collectors) c();
    const lines: string[] = [];
    for (const f of this.families.values()) {
      const name = f.type === 'counter' && opts.typeSuffix ? `${f.name}_total` : f.name;
      lines.push(`# HELP ${name} ${f.help}`, `# TYPE ${name} ${f.type}`);
      for (const s of f.series.values()) {
        const ls = Object.entries(s.labels)
          .map(([k, v]) => `${k}="${escapeLabel(v)}"`)
          .join(',');
        lines.push(`${name}${ls ? `{${ls}}` : ''} ${s.value}`);
      }
    }
    return lines.join('\n') + '\n';
  }
}

/** Per-receiver counters, as the Collector's receiverhelper declares them. */
export function receiverMetrics(reg: MetricsRegistry, receiver: string, transport: string) {
  const l = { receiver, transport };
  const noun = { logs: 'log_records', traces: 'spans' } as const;
  const make = (signal: 'logs' | 'traces') => ({
    accepted: reg.counter(`otelcol_receiver_accepted_${noun[signal]}`, `Number of ${noun[signal]} successfully pushed into the pipeline.`, l),
    refused: reg.counter(`otelcol_receiver_refused_${noun[signal]}`, `Number of ${noun[signal]} that could not be pushed into the pipeline.`, l),
  });
  return { logs: make('logs'), traces: make('traces') };
}

export type ReceiverMetrics = ReturnType<typeof receiverMetrics>;

const ackWindows = new WeakMap<MetricsRegistry, Map<string, LatencyWindow>>();

/**
 * How long a receiver's requests waited for the pipeline's answer — from
 * handing the records on to being told they are queued (durably, with a
 * persistent queue) or refused — as quantiles of the requests over the
 * metrics' sliding window (`trailhouse_receiver_ack_seconds`; the last
 * minute by default, the same for every reader). The sender's
 * own time, the network and the body's decoding are not in it. One window
 * per receiver and transport, however many consumers record into it.
 */
export function receiverAckLatency(reg: MetricsRegistry, receiver: string, transport: string): LatencyWindow {
  let byKey = ackWindows.get(reg);
  if (!byKey) ackWindows.set(reg, (byKey = new Map()));
  const key = `${receiver}\u0000${transport}`;
  const have = byKey.get(key);
  if (have) return have;
  const window = new LatencyWindow();
  byKey.set(key, window);
  const q = (quantile: string) =>
    reg.gauge('trailhouse_receiver_ack_seconds', 'Time from a request reaching the pipeline to its answer, over the last window (60s by default), by quantile.', { receiver, transport, quantile });
  const p50 = q('0.5');
  const p99 = q('0.99');
  const max = q('1');
  reg.onCollect(() => {
    p50.set(window.quantile(0.5));
    p99.set(window.quantile(0.99));
    max.set(window.quantile(1));
  });
  return window;
}

/**
 * Requests a receiver refused because the sender did not authenticate
 * (core/auth.ts), by reason: `missing` (no credential), `malformed`,
 * `invalid` (wrong credential), `busy` (the authenticator was saturated).
 * Labels never carry the credential or the claimed user.
 */
export function receiverAuthMetrics(reg: MetricsRegistry, receiver: string, transport: string) {
  const c = (reason: string) =>
    reg.counter('trailhouse_receiver_auth_failures', 'Requests refused by a receiver because the sender did not authenticate.', { receiver, transport, reason });
  return { missing: c('missing'), malformed: c('malformed'), invalid: c('invalid'), busy: c('busy') };
}

/** Per-exporter counters, as the Collector's exporterhelper declares them. */
export function exporterMetrics(reg: MetricsRegistry, exporter: string) {
  const l = { exporter };
  const noun = { logs: 'log_records', traces: 'spans' } as const;
  const make = (signal: 'logs' | 'traces') => ({
    sent: reg.counter(`otelcol_exporter_sent_${noun[signal]}`, `Number of ${noun[signal]} successfully sent to destination.`, l),
    sendFailed: reg.counter(`otelcol_exporter_send_failed_${noun[signal]}`, `Number of ${noun[signal]} in failed attempts to send to destination.`, l),
    enqueueFailed: reg.counter(`otelcol_exporter_enqueue_failed_${noun[signal]}`, `Number of ${noun[signal]} failed to be added to the sending queue.`, l),
  });
  // Labelled by data_type as the Collector's are. Its exporter has a queue per
  // signal; ours is one queue for both: each signal's series counts its own
  // batches (items with sizer: items), and shows the capacity they share.
  const queue = (signal: 'logs' | 'traces') => ({
    size: reg.gauge('otelcol_exporter_queue_size', 'Current size of the sending queue (batches, or items with sizer: items).', { exporter, data_type: signal }),
    capacity: reg.gauge('otelcol_exporter_queue_capacity', 'Capacity of the sending queue (shared by the signals), in the sizer\'s unit.', { exporter, data_type: signal }),
  });
  return { logs: make('logs'), traces: make('traces'), queue };
}

export type ExporterMetrics = ReturnType<typeof exporterMetrics>;

/**
 * Per-processor counters, as the Collector's processorhelper declares them
 * (`otel.signal`, printed `otel_signal` as its endpoint escapes it). Items a
 * processor refused are ours: the Collector counts none since it dropped
 * its `refused` metrics.
 */
export function processorMetrics(reg: MetricsRegistry, processor: string) {
  const make = (signal: 'logs' | 'traces') => {
    const l = { processor, otel_signal: signal };
    return {
      incoming: reg.counter('otelcol_processor_incoming_items', 'Number of items passed to the processor.', l),
      outgoing: reg.counter('otelcol_processor_outgoing_items', 'Number of items emitted from the processor.', l),
      refused: reg.counter('trailhouse_processor_refused_items', 'Number of items the processor refused (the sender is told to retry).', l),
    };
  };
  return { logs: make('logs'), traces: make('traces') };
}
