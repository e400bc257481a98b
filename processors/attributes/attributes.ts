/**
 * The `attributes` and `resource` processors (the Collector's): the same
 * actions (actions.ts), on the attributes of each log record and span, or on
 * the resource's. Payloads change in place; the next stage gets them whole.
 */
import type { Component, CreateSettings, LogsConsumer, NextConsumers, TracesConsumer } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { logRecordCount, spanCount, type LogsData, type TracesData } from '../../core/model.ts';
import { processorMetrics } from '../../core/telemetry/metrics.ts';
import { AttrActions, type ActionConfig } from './actions.ts';

export type Target = 'records' | 'resource';

export class AttributesProcessor implements Component, LogsConsumer, TracesConsumer {
  private readonly actions: AttrActions;
  private readonly m;

  constructor(
    settings: CreateSettings<{ actions: ActionConfig[] }>,
    private readonly next: NextConsumers,
    private readonly target: Target,
  ) {
    this.actions = new AttrActions(settings.config.actions);
    this.m = processorMetrics(settings.metrics, settings.id);
  }

  async start(): Promise<void> {}

  async consumeLogs(data: LogsData): Promise<void> {
    const n = logRecordCount(data);
    this.m.logs.incoming.add(n);
    for (const rl of data.resourceLogs) {
      if (this.target === 'resource') rl.resource.attributes = this.actions.apply(rl.resource.attributes);
      else for (const sl of rl.scopeLogs) for (const r of sl.logRecords) r.attributes = this.actions.apply(r.attributes);
    }
    await this.forward('logs', n, () => this.next.logs!.consumeLogs(data));
  }

  async consumeTraces(data: TracesData): Promise<void> {
    const n = spanCount(data);
    this.m.traces.incoming.add(n);
    for (const rs of data.resourceSpans) {
      if (this.target === 'resource') rs.resource.attributes = this.actions.apply(rs.resource.attributes);
      else for (const ss of rs.scopeSpans) for (const sp of ss.spans) sp.attributes = this.actions.apply(sp.attributes);
    }
    await this.forward('traces', n, () => this.next.traces!.consumeTraces(data));
  }

  private async forward(signal: 'logs' | 'traces', n: number, send: () => Promise<void>): Promise<void> {
    try {
      await send();
      this.m[signal].outgoing.add(n);
    } catch (err) {
      this.m[signal].refused.add(n);
      throw err;
    }
  }

  readonly shutdown = once(async () => {});
}
