/**
 * The service: builds the pipeline graph from config and runs its lifecycle.
 *
 * Start order is downstream first (extensions, exporters, processors, then
 * receivers last), so no receiver accepts data before the stages behind it
 * can take it. Shutdown is the reverse: receivers stop accepting first, then
 * processors flush into exporters that are still running, then exporters
 * drain their queues. Every step runs even if an earlier one failed; all
 * failures are reported together.
 */
import type {
  Component,
  ConnectorFactory,
  CreateSettings,
  ExporterFactory,
  ExtensionFactory,
  Host,
  LogsConsumer,
  NextConsumers,
  ProcessorFactory,
  ReceiverFactory,
  Reads,
  TracesConsumer,
} from './component.ts';
import { isPipelineWatcher, once } from './component.ts';
import type { ServiceConfig, PipelineConfig, ComponentConfig } from './config/load.ts';
import { fanoutLogs, fanoutTraces, ForwardLogs, ForwardTraces } from './fanout.ts';
import type { Signal } from './model.ts';
import type { Logger } from './telemetry/logger.ts';
import { MetricsRegistry } from './telemetry/metrics.ts';
import { startMetricsServer, type MetricsServer } from './telemetry/server.ts';
import { registerProcessMetrics } from './telemetry/process-metrics.ts';

type Consumes = Component & Partial<LogsConsumer & TracesConsumer>;

/** The pipelines in an order where each comes before any pipeline feeding it through a connector. */
function downstreamFirst(cfg: ServiceConfig): PipelineConfig[] {
  const out: PipelineConfig[] = [];
  const done = new Set<string>();
  const visit = (p: PipelineConfig): void => {
    if (done.has(p.id)) return;
    done.add(p.id); // the loader refuses cycles
    for (const q of cfg.pipelines) if (p.exporters.some((e) => cfg.connectors.has(e) && q.receivers.includes(e))) visit(q);
    out.push(p);
  };
  for (const p of cfg.pipelines) visit(p);
  return out;
}

function consumersOf(c: Consumes, signal: Signal): NextConsumers {
  return signal === 'logs' ? { logs: c as LogsConsumer } : { traces: c as TracesConsumer };
}

/** A processor's declaration (component.ts Reads) for its config; none declared (a factory cast from elsewhere) reads records. */
export function processorReads(f: ProcessorFactory, config: unknown): Reads {
  return (typeof f.reads === 'function' ? f.reads(config) : f.reads) ?? 'records';
}

interface Built {
  id: string;
  kind: string;
  component: Component;
}

export interface ServiceOptions {
  logger: Logger;
  metrics?: MetricsRegistry;
  /** Serve self-metrics on service.telemetry.metrics.address (default true). */
  serveMetrics?: boolean;
  /**
   * Runs during shutdown once receivers and processors have stopped, before
   * connectors and exporters do (the pipeline thread behind the spool
   * exporters finishes there: core/pipeline-thread.ts).
   */
  beforeExportersStop?: () => Promise<void>;
}

export class Service {
  readonly metrics: MetricsRegistry;
  private readonly logger: Logger;
  private readonly extensions: Built[] = [];
  private readonly exporters: Built[] = [];
  private readonly processors: Built[] = [];
  private readonly connectors: Built[] = [];
  private readonly receivers: Built[] = [];
  private metricsServer: MetricsServer | undefined;
  private stopProcessMetrics: (() => void) | undefined;
  private fatal: ((err: Error) => void) | undefined;

  constructor(
    readonly config: ServiceConfig,
    private readonly opts: ServiceOptions,
  ) {
    this.logger = opts.logger;
    this.metrics = opts.metrics ?? new MetricsRegistry();
    this.build();
  }

  private settings<C>(kind: string, cc: ComponentConfig): CreateSettings<C> {
    return {
      id: cc.id,
      config: cc.config as C,
      logger: this.logger.child({ component: `${kind}/${cc.id}` }),
      metrics: this.metrics,
    };
  }

  private build(): void {
    const cfg = this.config;
    for (const id of cfg.serviceExtensions) {
      const cc = cfg.extensions.get(id)!;
      const f = cc.factory as ExtensionFactory;
      this.extensions.push({ id, kind: 'extension', component: f.create(this.settings('extension', cc)) });
    }

    // Connectors: their routes (the first stage of each pipeline they feed) are filled below.
    const connectorRoutes = new Map<string, Map<string, NextConsumers>>();
    const exporters = new Map<string, Consumes>();
    for (const [id, cc] of cfg.connectors) {
      const routes = new Map<string, NextConsumers>();
      connectorRoutes.set(id, routes);
      const c = (cc.factory as ConnectorFactory).create(this.settings('connector', cc), routes);
      exporters.set(id, c);
      this.connectors.push({ id, kind: 'connector', component: c });
    }
    for (const p of cfg.pipelines) {
      for (const id of p.exporters) {
        if (exporters.has(id)) continue;
        const cc = cfg.exporters.get(id)!;
        const c = (cc.factory as ExporterFactory).create(this.settings('exporter', cc));
        exporters.set(id, c);
        this.exporters.push({ id, kind: 'exporter', component: c });
      }
    }

    // Shared processors: one instance per id, its downstream filled per signal.
    const shared = new Map<string, { c: Consumes; logs: ForwardLogs; traces: ForwardTraces }>();
    const heads = new Map<string, NextConsumers>(); // pipeline id → its first stage
    // Pipelines fed by connectors first: processors are listed downstream-first,
    // so shutdown (the reverse) flushes a pipeline before the ones it feeds.
    const bytesOnly = new Map<string, boolean>(); // pipeline id → no stage reads records
    for (const p of downstreamFirst(cfg)) {
      bytesOnly.set(p.id, this.bytesOnly(p));
      let next = this.exporterFanout(p, exporters);
      for (let i = p.processors.length - 1; i >= 0; i--) {
        const id = p.processors[i]!;
        const cc = cfg.processors.get(id)!;
        const f = cc.factory as ProcessorFactory;
        let c: Consumes;
        if (f.shared) {
          let entry = shared.get(id);
          if (!entry) {
            const logs = new ForwardLogs();
            const traces = new ForwardTraces();
            c = f.create(this.settings('processor', cc), { logs, traces });
            entry = { c, logs, traces };
            shared.set(id, entry);
            this.processors.push({ id, kind: 'processor', component: c });
          }
          const fwd = p.signal === 'logs' ? entry.logs : entry.traces;
          if (fwd.target) throw new Error(`processor "${id}" is shared and may appear in only one ${p.signal} pipeline`);
          fwd.target = (next as Record<Signal, never>)[p.signal];
          c = entry.c;
        } else {
          c = f.create(this.settings('processor', cc), next);
          this.processors.push({ id: `${id} (${p.id})`, kind: 'processor', component: c });
        }
        next = consumersOf(c, p.signal);
      }
      heads.set(p.id, next);
    }

    const byReceiver = new Map<string, { logs: LogsConsumer[]; traces: TracesConsumer[]; bytesOnly: Record<Signal, boolean> }>();
    for (const p of cfg.pipelines) {
      for (const id of p.receivers) {
        const routes = connectorRoutes.get(id);
        if (routes) {
          routes.set(p.id, heads.get(p.id)!);
          continue;
        }
        let e = byReceiver.get(id);
        if (!e) byReceiver.set(id, (e = { logs: [], traces: [], bytesOnly: { logs: true, traces: true } }));
        e.bytesOnly[p.signal] &&= bytesOnly.get(p.id)!;
        const head = heads.get(p.id)!;
        if (p.signal === 'logs') e.logs.push(head.logs!);
        else e.traces.push(head.traces!);
      }
    }
    for (const [id, e] of byReceiver) {
      const cc = cfg.receivers.get(id)!;
      const next: NextConsumers = {};
      if (e.logs.length) next.logs = fanoutLogs(e.logs);
      if (e.traces.length) next.traces = fanoutTraces(e.traces);
      next.bytesOnly = { logs: e.logs.length > 0 && e.bytesOnly.logs, traces: e.traces.length > 0 && e.bytesOnly.traces };
      const c = (cc.factory as ReceiverFactory).create(this.settings('receiver', cc), next);
      this.receivers.push({ id, kind: 'receiver', component: c });
    }
  }

  /** True when no processor or exporter of `p` reads records (NextConsumers.bytesOnly). */
  private bytesOnly(p: PipelineConfig): boolean {
    const cfg = this.config;
    for (const id of p.processors) {
      const cc = cfg.processors.get(id)!;
      if (processorReads(cc.factory as ProcessorFactory, cc.config) === 'records') return false;
    }
    for (const id of p.exporters) {
      const cc = cfg.exporters.get(id); // undefined: a connector, which hands records to other pipelines
      if (!cc || ((cc.factory as ExporterFactory).reads?.(cc.config, p.signal) ?? 'records') === 'records') return false;
    }
    return true;
  }

  private exporterFanout(p: PipelineConfig, exporters: Map<string, Consumes>): NextConsumers {
    const list = p.exporters.map((id) => exporters.get(id)!);
    if (p.signal === 'logs') return { logs: fanoutLogs(list as LogsConsumer[]) };
    return { traces: fanoutTraces(list as TracesConsumer[]) };
  }

  private host(): Host {
    return {
      logger: this.logger,
      metrics: this.metrics,
      getExtension: (id) => this.extensions.find((e) => e.id === id)?.component,
      reportFatal: (err) => {
        this.logger.error('fatal component error, shutting down', { error: err });
        this.fatal?.(err);
      },
    };
  }

  /** Resolves with the first fatal error reported by a component. */
  onFatal(fn: (err: Error) => void): void {
    this.fatal = fn;
  }

  /** Starts everything downstream-first; on failure stops what started and rethrows. */
  async start(): Promise<void> {
    const host = this.host();
    // this.processors was built back to front: downstream ones come first.
    const order = [...this.extensions, ...this.exporters, ...this.processors, ...this.connectors, ...this.receivers];
    const started: Built[] = [];
    try {
      const tel = this.config.telemetry.metrics;
      if (this.opts.serveMetrics !== false && tel.level !== 'none') {
        this.stopProcessMetrics = registerProcessMetrics(this.metrics);
        this.metricsServer = await startMetricsServer(tel.address, this.metrics, { typeSuffix: tel.typeSuffix });
        this.logger.info('self-metrics listening', { address: this.metricsServer.address });
      }
      for (const b of order) {
        try {
          await b.component.start(host);
        } catch (err) {
          throw new Error(`failed to start ${b.kind} "${b.id}": ${(err as Error).message}`, { cause: err });
        }
        started.push(b);
      }
    } catch (err) {
      await this.stopList(started.reverse()).catch(() => {});
      await this.metricsServer?.close();
      this.stopProcessMetrics?.();
      throw err;
    }
    for (const e of this.extensions) if (isPipelineWatcher(e.component)) e.component.ready();
    this.logger.info('pipeline started', {
      pipelines: this.config.pipelines.map((p) => p.id),
      receivers: this.receivers.map((r) => r.id),
      exporters: this.exporters.map((e) => e.id),
    });
  }

  private async stopList(list: Built[]): Promise<void> {
    const errors: Error[] = [];
    for (const b of list) {
      try {
        await b.component.shutdown();
      } catch (err) {
        errors.push(new Error(`${b.kind} "${b.id}": ${(err as Error).message}`, { cause: err }));
      }
    }
    if (errors.length) throw new AggregateError(errors, `shutdown errors: ${errors.map((e) => e.message).join('; ')}`);
  }

  /** Upstream first: receivers, processors front to back, exporters, extensions. Idempotent. */
  readonly shutdown = once(async () => {
    for (const e of this.extensions) if (isPipelineWatcher(e.component)) e.component.notReady();
    const errors: Error[] = [];
    const step = (p: Promise<void>) => p.catch((err: unknown) => void errors.push(...(err instanceof AggregateError ? (err.errors as Error[]) : [err as Error])));
    try {
      await step(this.stopList([...this.receivers, ...[...this.processors].reverse()]));
      if (this.opts.beforeExportersStop) await step(this.opts.beforeExportersStop());
      await step(this.stopList([...this.connectors, ...this.exporters, ...[...this.extensions].reverse()]));
      if (errors.length) throw new AggregateError(errors, `shutdown errors: ${errors.map((e) => e.message).join('; ')}`);
    } finally {
      await this.metricsServer?.close();
      this.stopProcessMetrics?.();
      this.logger.info('pipeline stopped');
    }
  });
}
