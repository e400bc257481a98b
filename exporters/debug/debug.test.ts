import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Factory } from '../../core/component.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { settingsFor } from '../../test/component-config.ts';
import { sampleLogs, sampleTraces } from '../../test/helpers.ts';
import { DebugExporter, type DebugConfig } from './debug.ts';
import { debugFactory } from './factory.ts';
import { Payload } from '../../core/payload.ts';

afterEach(() => vi.useRealTimers());

function exporter(user: Record<string, unknown>) {
  const printed: string[] = [];
  const metrics = new MetricsRegistry();
  const e = new DebugExporter(settingsFor<DebugConfig>(debugFactory as Factory, user, { metrics }), (s) => void printed.push(s));
  return { e, printed, metrics };
}

describe('debug exporter', () => {
  it('prints by verbosity: a line per batch, per record, or every field', async () => {
    const basic = exporter({});
    await basic.e.consumeLogs(Payload.logs(sampleLogs(3)));
    expect(basic.printed).toEqual(['Logs\t{"exporter": "debug", "resource logs": 1, "log records": 3}\n']);
    const detailed = exporter({ verbosity: 'detailed' });
    await detailed.e.consumeTraces(Payload.traces(sampleTraces(2)));
    expect(detailed.printed[0]!.split('\n').filter((l) => l.trim().startsWith('Span ')).length).toBe(2);
  });

  it('samples as the Collector does: sampling_initial batches a second, then every sampling_thereafter-th; counts all', async () => {
    vi.useFakeTimers();
    vi.setSystemTime(new Date('2026-11-29T10:00:00.100Z'));
    const { e, printed, metrics } = exporter({ sampling_initial: 2, sampling_thereafter: 3 });
    for (let i = 0; i < 8; i++) await e.consumeLogs(Payload.logs(sampleLogs(1)));
    expect(printed).toHaveLength(4); // batches 1, 2, 5, 8
    vi.setSystemTime(new Date('2026-11-29T10:00:01.100Z'));
    await e.consumeLogs(Payload.logs(sampleLogs(1)));
    expect(printed).toHaveLength(5); // a new second starts over
    expect(metrics.read('otelcol_exporter_sent_log_records', { exporter: 'debug' })).toBe(9);
  });
});
