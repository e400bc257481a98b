/**
 * Self-telemetry metrics, declared in one place and exposed in Prometheus text
 * format. Names follow the OpenTelemetry Collector's own
 * (`otelcol_receiver_accepted_log_records_total{receiver="otlp",transport="grpc"}`),
 * so dashboards built for the Collector read ours.
 */

export type Labels = Record<string, string>;

interface Series {
  labels: Labels;
  value: number;
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
      s = { labels, value: 0 };
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

export class MetricsRegistry {
  private readonly families = new Map<string, Family>();
  private readonly collectors: Array<() => void> = [];

  private family(name: string, help: string, type: 'counter' | 'gauge'): Family {
    let f = this.families.get(name);
    if (!f) {
      f = new Family(name, help, type);
      this.families.set(name, f);
    }
    return f;
  }

  /** A monotonic counter. `name` without the `_total` suffix, which exposition adds. */
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

  exposition(): string {
    for (const c of this.collectors) c();
    const lines: string[] = [];
    for (const f of this.families.values()) {
      const name = f.type === 'counter' ? `${f.name}_total` : f.name;
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
  return {
    logs: make('logs'),
    traces: make('traces'),
    queueSize: reg.gauge('otelcol_exporter_queue_size', 'Current number of batches in the sending queue.', l),
    queueCapacity: reg.gauge('otelcol_exporter_queue_capacity', 'Capacity of the sending queue, in batches.', l),
  };
}

export type ExporterMetrics = ReturnType<typeof exporterMetrics>;

/** Per-processor counters. */
export function processorMetrics(reg: MetricsRegistry, processor: string) {
  const l = { processor };
  const noun = { logs: 'log_records', traces: 'spans' } as const;
  const make = (signal: 'logs' | 'traces') => ({
    incoming: reg.counter(`otelcol_processor_incoming_${noun[signal]}`, `Number of ${noun[signal]} passed to the processor.`, l),
    outgoing: reg.counter(`otelcol_processor_outgoing_${noun[signal]}`, `Number of ${noun[signal]} emitted by the processor.`, l),
    refused: reg.counter(`otelcol_processor_refused_${noun[signal]}`, `Number of ${noun[signal]} refused by the processor.`, l),
  });
  return { logs: make('logs'), traces: make('traces') };
}
