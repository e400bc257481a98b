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
import type { LogsData, TracesData } from './model.ts';
import type { LogsPayload, Payload, TracesPayload } from './payload.ts';
import { processorMetrics } from './telemetry/metrics.ts';

/** Changes to records in place (each gets them with recordsToChange: their bytes go). */
export interface InPlace {
  logs?(data: LogsData, payload: LogsPayload): void;
  traces?(data: TracesData, payload: TracesPayload): void;
}

export function inPlaceProcessor(settings: CreateSettings<unknown>, next: NextConsumers, fns: InPlace): Component & LogsConsumer & TracesConsumer {
  const m = processorMetrics(settings.metrics, settings.id);
  const run = async (signal: 'logs' | 'traces', p: Payload, change: (() => void) | undefined, forward: () => Promise<void>): Promise<void> => {
    const items = p.count;
    m[signal].incoming.add(items);
    change?.();
    const out = p.count;
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
    consumeLogs: (p) => run('logs', p, fns.logs && (() => fns.logs!(p.recordsToChange(), p)), () => next.logs!.consumeLogs(p)),
    consumeTraces: (p) => run('traces', p, fns.traces && (() => fns.traces!(p.recordsToChange(), p)), () => next.traces!.consumeTraces(p)),
    shutdown: once(async () => {}),
  };
}
