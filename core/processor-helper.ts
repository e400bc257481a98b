/**
 * A processor that changes each payload in place and passes it on (the
 * Collector's processorhelper, for the simple case): it counts what comes in,
 * what the next stage accepted and what it refused
 * (`otelcol_processor_{incoming,outgoing,refused}_*`), and settles when the
 * next stage did. The redaction, attributes and resource processors are one
 * of these with their own `logs`/`traces` functions.
 */
import type { Component, CreateSettings, LogsConsumer, NextConsumers, TracesConsumer } from './component.ts';
import { once } from './component.ts';
import { logRecordCount, spanCount, type LogsData, type TracesData } from './model.ts';
import { processorMetrics } from './telemetry/metrics.ts';

export interface InPlace {
  logs?(data: LogsData): void;
  traces?(data: TracesData): void;
}

export function inPlaceProcessor(settings: CreateSettings<unknown>, next: NextConsumers, fns: InPlace): Component & LogsConsumer & TracesConsumer {
  const m = processorMetrics(settings.metrics, settings.id);
  const run = async (signal: 'logs' | 'traces', count: () => number, change: () => void, forward: () => Promise<void>): Promise<void> => {
    const items = count();
    m[signal].incoming.add(items);
    change();
    const out = count();
    if (out === 0 && items > 0) return;
    try {
      await forward();
      m[signal].outgoing.add(out);
    } catch (err) {
      m[signal].refused.add(out);
      throw err;
    }
  };
  return {
    start: async () => {},
    consumeLogs: (data) => run('logs', () => logRecordCount(data), () => fns.logs?.(data), () => next.logs!.consumeLogs(data)),
    consumeTraces: (data) => run('traces', () => spanCount(data), () => fns.traces?.(data), () => next.traces!.consumeTraces(data)),
    shutdown: once(async () => {}),
  };
}
