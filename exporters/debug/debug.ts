/**
 * The debug exporter: prints what reaches it, for trying a pipeline out.
 * `basic` prints one line per batch, `normal` one line per record, `detailed`
 * every field. It writes to stdout (the data is the point here), never to the
 * process's own structured log.
 */
import type { Component, CreateSettings, LogsConsumer, TracesConsumer } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import type { AnyValue, KeyValue } from '../../core/model.ts';
import { KvList } from '../../core/model.ts';
import type { LogsPayload, TracesPayload } from '../../core/payload.ts';
import { exporterMetrics } from '../../core/telemetry/metrics.ts';

export interface DebugConfig {
  verbosity: 'basic' | 'normal' | 'detailed';
  /** Batches printed each second before sampling starts (the Collector's; default 2). */
  sampling_initial: number;
  /** After those, every Nth batch of the second is printed (default 1: all). */
  sampling_thereafter: number;
}

function show(v: AnyValue): string {
  if (v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
  if (v instanceof KvList) return `{${v.values.map((kv) => `${kv.key}: ${show(kv.value)}`).join(', ')}}`;
  return `[${v.map(show).join(', ')}]`;
}

const attrs = (a: readonly KeyValue[]) => a.map((kv) => `${kv.key}=${show(kv.value)}`).join(' ');

export class DebugExporter implements Component, LogsConsumer, TracesConsumer {
  private readonly m;
  constructor(
    private readonly settings: CreateSettings<DebugConfig>,
    private readonly write: (s: string) => void = (s) => process.stdout.write(s),
  ) {
    this.m = exporterMetrics(settings.metrics, settings.id);
  }

  async start(): Promise<void> {}

  private second = 0;
  private inSecond = 0;

  /** The Collector's sampling: the first `sampling_initial` batches of each second, then every `sampling_thereafter`th. */
  private sampled(): boolean {
    const now = Math.floor(Date.now() / 1000);
    if (now !== this.second) {
      this.second = now;
      this.inSecond = 0;
    }
    const n = ++this.inSecond;
    const { sampling_initial: initial, sampling_thereafter: every } = this.settings.config;
    return n <= initial || (n - initial) % every === 0;
  }

  async consumeLogs(p: LogsPayload): Promise<void> {
    const n = p.count;
    const data = p.records();
    const v = this.settings.config.verbosity;
    const out = [`Logs\t{"exporter": "${this.settings.id}", "resource logs": ${data.resourceLogs.length}, "log records": ${n}}`];
    if (v !== 'basic') {
      for (const rl of data.resourceLogs) {
        if (v === 'detailed') out.push(`ResourceLog: ${attrs(rl.resource.attributes)}`);
        for (const sl of rl.scopeLogs) {
          if (v === 'detailed') out.push(`  ScopeLogs: ${sl.scope.name} ${sl.scope.version}`);
          for (const r of sl.logRecords) {
            out.push(
              v === 'normal'
                ? `${show(r.body)} ${attrs(r.attributes)}`
                : `    LogRecord ts=${r.timeUnixNano} observed=${r.observedTimeUnixNano} severity=${r.severityText}(${r.severityNumber}) trace=${r.traceId} span=${r.spanId} body=${show(r.body)} attributes: ${attrs(r.attributes)}`,
            );
          }
        }
      }
    }
    if (this.sampled()) this.write(out.join('\n') + '\n');
    this.m.logs.sent.add(n);
  }

  async consumeTraces(p: TracesPayload): Promise<void> {
    const n = p.count;
    const data = p.records();
    const v = this.settings.config.verbosity;
    const out = [`Traces\t{"exporter": "${this.settings.id}", "resource spans": ${data.resourceSpans.length}, "spans": ${n}}`];
    if (v !== 'basic') {
      for (const rs of data.resourceSpans) {
        if (v === 'detailed') out.push(`ResourceSpans: ${attrs(rs.resource.attributes)}`);
        for (const ss of rs.scopeSpans) {
          for (const sp of ss.spans) {
            out.push(
              v === 'normal'
                ? `${sp.name} ${sp.traceId} ${sp.spanId} ${attrs(sp.attributes)}`
                : `    Span name=${sp.name} trace=${sp.traceId} span=${sp.spanId} parent=${sp.parentSpanId} kind=${sp.kind} start=${sp.startTimeUnixNano} end=${sp.endTimeUnixNano} status=${sp.status.code} ${sp.status.message} attributes: ${attrs(sp.attributes)} events=${sp.events.length} links=${sp.links.length}`,
            );
          }
        }
      }
    }
    if (this.sampled()) this.write(out.join('\n') + '\n');
    this.m.traces.sent.add(n);
  }

  readonly shutdown = once(async () => {});
}
