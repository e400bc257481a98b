/**
 * One process instrumented with the real OpenTelemetry JS SDK, with its
 * batch processors' defaults (a queue of 2048, exports of 512, one export in
 * flight), emitting spans and logs at a steady rate into the default
 * pipeline (./pipeline.yaml on free ports, real embedded engine, fsync on):
 * every record emitted is stored, and the SDK dropped none.
 *
 * The SDK drops what does not fit its queue while an export is in flight,
 * so the time to answer bounds what one process can send: answered after a
 * 200 ms batching timeout, 512 records per 200 ms is the most it gets
 * through, and this rate loses records (checked against that shape); answered
 * once the request is fsynced, it loses none.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { diag, DiagLogLevel } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { ExportResultCode, type ExportResult } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider, type LogRecordExporter, type ReadableLogRecord } from '@opentelemetry/sdk-logs';
import { BatchSpanProcessor, TracerProvider, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-proto';
import { count, defaultPipelineOnFreePorts } from './default-pipeline.ts';
import { waitFor } from './helpers.ts';
import { Trailhouse } from './process.ts';

/**
 * The SDK's own exporter, counting what it exported and how long each
 * export took. The batch processors drop what does not fit their queue
 * without a word (logs) or with a diag line (spans): records that never
 * reached a successful export are the SDK's drops.
 */
class Counted<T> {
  exported = 0;
  failed = 0;
  readonly ms: number[] = [];
  constructor(private readonly inner: { export(items: T[], done: (r: ExportResult) => void): void; shutdown(): Promise<void>; forceFlush?(): Promise<void> }) {}
  export(items: T[], done: (r: ExportResult) => void): void {
    const t = performance.now();
    this.inner.export(items, (r) => {
      this.ms.push(performance.now() - t);
      if (r.code === ExportResultCode.SUCCESS) this.exported += items.length;
      else this.failed += items.length;
      done(r);
    });
  }
  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }
  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
  get slowest(): number {
    return Math.round(Math.max(0, ...this.ms));
  }
}

/** Records per second of each signal, and for how long. */
const RATE = 4000;
const SECONDS = 4;
/** Emitted in slices this often, so the sender's own event loop stays free for its exports. */
const TICK_MS = 10;

const dir = mkdtempSync(join(tmpdir(), 'th-sdk-'));
let running: Trailhouse | undefined;
afterAll(async () => {
  diag.disable();
  await running?.kill9();
  rmSync(dir, { recursive: true, force: true });
});

describe('a real SDK at a steady rate into the default pipeline', () => {
  it(`loses nothing: ${RATE} spans/s and ${RATE} logs/s for ${SECONDS}s, every one stored, none dropped by the SDK`, async () => {
    const p = await defaultPipelineOnFreePorts();
    // The default correlation window (10 s) too: what is stored happens after the emitting ends.
    running = await Trailhouse.start(dir, 'pipeline', p.yaml());

    // What the SDK reports about itself: drops (queue full) and failed exports.
    const sdkSaid: string[] = [];
    const note = (...args: unknown[]) => void sdkSaid.push(args.map(String).join(' '));
    diag.setLogger({ error: note, warn: note, info: () => {}, debug: (...a: unknown[]) => void (/drop/i.test(String(a[0])) && note(...a)), verbose: () => {} }, DiagLogLevel.DEBUG);

    const service = `sdk-no-loss-${process.pid}`;
    const base = `http://127.0.0.1:${p.http}`;
    const resource = resourceFromAttributes({ 'service.name': service });
    const spanOut = new Counted<ReadableSpan>(new OTLPTraceExporter({ url: `${base}/v1/traces` }));
    const logOut = new Counted<ReadableLogRecord>(new OTLPLogExporter({ url: `${base}/v1/logs` }));
    // The processors' defaults, as an instrumented service has them.
    const tracing = new TracerProvider({ resource, spanProcessors: [new BatchSpanProcessor({ exporter: spanOut as SpanExporter })] });
    const logs = new LoggerProvider({ resource, processors: [new BatchLogRecordProcessor({ exporter: logOut as LogRecordExporter })] });
    const tracer = tracing.getTracer('no-loss');
    const logger = logs.getLogger('no-loss');
    const perTick = (RATE * TICK_MS) / 1000;
    const ticks = (SECONDS * 1000) / TICK_MS;
    const began = Date.now();
    let emitted = 0;
    for (let t = 0; t < ticks; t++) {
      for (let i = 0; i < perTick; i++) {
        const n = emitted++;
        const span = tracer.startSpan('GET /api/orders', { attributes: { 'http.request.method': 'GET', 'url.path': `/api/orders/${n}`, 'http.response.status_code': 200, 'server.address': 'orders' } });
        logger.emit({ severityNumber: SeverityNumber.INFO, body: `access ${n}`, attributes: { 'http.request.method': 'GET', 'url.path': `/api/orders/${n}`, 'http.response.status_code': 200 } });
        span.end();
      }
      // Paced against the clock, not the sleeps: a late tick is made up, the rate holds.
      const due = began + (t + 1) * TICK_MS;
      await new Promise((r) => setTimeout(r, Math.max(0, due - Date.now())));
    }
    const seconds = (Date.now() - began) / 1000;
    await Promise.all([tracing.forceFlush(), logs.forceFlush()]);
    await Promise.all([tracing.shutdown(), logs.shutdown()]);
    expect(emitted).toBe(RATE * SECONDS);
    const sdkReport = `the SDK exported ${spanOut.exported} spans (${spanOut.failed} failed, slowest export ${spanOut.slowest} ms) and ${logOut.exported} logs (${logOut.failed} failed, slowest ${logOut.slowest} ms); it said: ${sdkSaid.slice(0, 3).join(' | ')}`;
    expect({ spans: spanOut.exported, logs: logOut.exported }, sdkReport).toEqual({ spans: emitted, logs: emitted });
    // The emitting loop kept up (else the rate tested is lower than claimed).
    expect(seconds).toBeLessThan(SECONDS * 1.5);

    const where = `ServiceName = '${service}'`;
    const stored = async () => [await count(p.query, `SELECT count() FROM otel.otel_traces WHERE ${where}`), await count(p.query, `SELECT count() FROM otel.otel_logs WHERE ${where}`)];
    await waitFor(async () => {
      running!.assertRunning();
      const [spans, logs] = await stored();
      return spans >= emitted && logs >= emitted;
    }, 60_000, `${emitted} spans and logs stored`).catch(async (err: Error) => {
      throw new Error(`${err.message}: stored ${JSON.stringify(await stored())}; ${sdkReport}`);
    });
    expect(sdkSaid).toEqual([]);
    expect(await stored()).toEqual([emitted, emitted]);
  }, 180_000);
});
