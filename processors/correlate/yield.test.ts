// Correlate walks a payload part by part and hands the event loop back
// between parts once its time slice is used (core/yield.ts): the slice is set
// to 0 here so every part boundary yields, and the outcome must be exactly
// the one of the walk in one go.
import { afterEach, describe, expect, it } from 'vitest';
import { logRecordCount, spanCount } from '../../core/model.ts';
import { encodeLogsProto, encodeTracesProto } from '../../core/otlp/index.ts';
import { Payload, type LogsPayload, type TracesPayload } from '../../core/payload.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { TimeSlice } from '../../core/yield.ts';
import { makeBatch } from '../../scripts/bench/workload.ts';
import { defaultCorrelateConfig } from './config.ts';
import { CorrelateProcessor } from './correlate.ts';

const DEFAULT_MS = TimeSlice.ms;
afterEach(() => {
  TimeSlice.ms = DEFAULT_MS;
});

// Twenty requests of each signal; the logs carry the spans' trace and span ids.
const batches = Array.from({ length: 20 }, (_, i) => makeBatch(25, i + 1));
const traceParts = batches.map((b) => encodeTracesProto(b.traces));
const logParts = batches.map((b) => encodeLogsProto(b.logs));
const spans = batches.reduce((n, b) => n + spanCount(b.traces), 0);
const records = batches.reduce((n, b) => n + logRecordCount(b.logs), 0);

/** Counts turns of the event loop (setImmediate callbacks) until stopped. */
function ticker(): { readonly ticks: number; stop(): void } {
  let ticks = 0;
  let on = true;
  const tick = (): void => {
    ticks++;
    if (on) setImmediate(tick);
  };
  setImmediate(tick);
  return {
    get ticks() {
      return ticks;
    },
    stop: () => void (on = false),
  };
}

async function run(sliceMs: number) {
  TimeSlice.ms = sliceMs;
  const metrics = new MetricsRegistry();
  const out: { logs: LogsPayload[]; traces: TracesPayload[]; forwardTick: number } = { logs: [], traces: [], forwardTick: -1 };
  const t = ticker();
  const c = new CorrelateProcessor({ id: 'c', config: { ...defaultCorrelateConfig(), summary: false, wait: 60_000 }, logger: silentLogger, metrics }, {
    traces: { consumeTraces: async (p) => void out.traces.push(p) },
    logs: {
      consumeLogs: async (p) => {
        out.forwardTick = t.ticks;
        out.logs.push(p);
      },
    },
  });
  await c.start({} as never);
  // The tick at which the logs' enrichment looked up its first span.
  let enrichTick = -1;
  const span = c.index.span.bind(c.index);
  c.index.span = (traceId, spanId) => {
    if (enrichTick < 0) enrichTick = t.ticks;
    return span(traceId, spanId);
  };
  const a = c.consumeTraces(Payload.ofBytes('traces', traceParts, spans));
  const heldAfterTraces = c.held.payloads;
  const b = c.consumeLogs(Payload.ofBytes('logs', logParts, records));
  const heldAfterBoth = c.held.payloads;
  let heldAtFirstTurn = -1;
  setImmediate(() => (heldAtFirstTurn = c.held.payloads));
  // The windows close on shutdown (whatever the machine's load, the spans
  // are still indexed when the logs leave), once both are indexed.
  await c.shutdown();
  await Promise.all([a, b]);
  t.stop();
  return {
    heldAfterTraces,
    heldAfterBoth,
    heldAtFirstTurn,
    enrichTick,
    forwardTick: out.forwardTick,
    enriched: metrics.read('trailhouse_correlate_enriched_log_records', { processor: 'c' }),
    logs: out.logs.map((p) => p.records()),
    traces: out.traces.map((p) => Buffer.concat(p.bytes()!)),
  };
}

describe('correlate: long work yields', () => {
  it('indexes a payload of many parts across turns of the event loop, holding it only once whole', async () => {
    const whole = await run(1e9);
    // In one go: both payloads are held when consume returns.
    expect(whole.heldAfterTraces).toBe(1);
    expect(whole.heldAfterBoth).toBe(2);
    const sliced = await run(0);
    // Part by part: neither is held yet when consume returns, and the event
    // loop turns before both are (the logs wait for the traces' indexing).
    expect(sliced.heldAfterTraces).toBe(0);
    expect(sliced.heldAfterBoth).toBe(0);
    expect(sliced.heldAtFirstTurn).toBeLessThan(2);
    expect(sliced.heldAtFirstTurn).toBeGreaterThanOrEqual(0);
    // The same outcome: every log record enriched, the same patches, the spans passed on untouched.
    expect(whole.enriched).toBe(records);
    expect(sliced.enriched).toBe(whole.enriched);
    expect(sliced.logs).toEqual(whole.logs);
    expect(sliced.traces).toEqual(whole.traces);
    expect(sliced.traces[0]!.equals(Buffer.concat(traceParts))).toBe(true);
  });

  it('enriches a payload of many parts across turns of the event loop before passing it on', async () => {
    const whole = await run(1e9);
    expect(whole.enrichTick).toBeGreaterThanOrEqual(0);
    expect(whole.forwardTick).toBe(whole.enrichTick);
    const sliced = await run(0);
    expect(sliced.forwardTick).toBeGreaterThan(sliced.enrichTick);
    expect(sliced.logs).toEqual(whole.logs);
  });

  it('shutdown waits for payloads still being indexed and passes them on', async () => {
    TimeSlice.ms = 0;
    const got: TracesPayload[] = [];
    const c = new CorrelateProcessor({ id: 'c', config: { ...defaultCorrelateConfig(), summary: false, wait: 60_000 }, logger: silentLogger, metrics: new MetricsRegistry() }, {
      traces: { consumeTraces: async (p) => void got.push(p) },
      logs: { consumeLogs: async () => undefined },
    });
    await c.start({} as never);
    const a = c.consumeTraces(Payload.ofBytes('traces', traceParts, spans));
    expect(c.held.payloads).toBe(0);
    await c.shutdown();
    await a;
    expect(got).toHaveLength(1);
    await expect(c.consumeTraces(Payload.ofBytes('traces', traceParts, spans))).rejects.toThrow(/not running/);
  });
});
