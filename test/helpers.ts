/** Shared test helpers: hosts, recording consumers, sample data, polling. */
import type { Host, LogsConsumer, TracesConsumer } from '../core/component.ts';
import { KvList, newLogRecord, newSpan, type LogsData, type TracesData } from '../core/model.ts';
import type { LogsPayload, TracesPayload } from '../core/payload.ts';
import { createLogger, type Logger } from '../core/telemetry/logger.ts';
import { MetricsRegistry } from '../core/telemetry/metrics.ts';

export function testLogger(lines: string[] = []): Logger {
  return createLogger({ level: 'debug', write: (l) => lines.push(l) });
}

export function testHost(extensions: Record<string, unknown> = {}): Host & { fatal: Error[] } {
  const fatal: Error[] = [];
  return {
    logger: testLogger(),
    metrics: new MetricsRegistry(),
    getExtension: (id) => extensions[id] as never,
    reportFatal: (err) => fatal.push(err),
    fatal,
  };
}

export class RecordingConsumer implements LogsConsumer, TracesConsumer {
  /** What arrived, as it arrived (bytes stay bytes until a test reads `logs`). */
  logPayloads: LogsPayload[] = [];
  tracePayloads: TracesPayload[] = [];
  /** When set, consume calls fail with it. */
  failWith: Error | undefined;
  async consumeLogs(p: LogsPayload): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.logPayloads.push(p);
  }
  async consumeTraces(p: TracesPayload): Promise<void> {
    if (this.failWith) throw this.failWith;
    this.tracePayloads.push(p);
  }
  /** The records of what arrived (decodes payloads still in bytes). */
  get logs(): LogsData[] {
    return this.logPayloads.map((p) => p.records());
  }
  get traces(): TracesData[] {
    return this.tracePayloads.map((p) => p.records());
  }
  get logRecords() {
    return this.logs.flatMap((d) => d.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)));
  }
  get spans() {
    return this.traces.flatMap((d) => d.resourceSpans.flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
  }
}

export function sampleLogs(n = 3, service = 'checkout'): LogsData {
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: service }], droppedAttributesCount: 0 },
        schemaUrl: '',
        scopeLogs: [
          {
            scope: { name: 'envoy', version: '1.31', attributes: [], droppedAttributesCount: 0 },
            schemaUrl: '',
            logRecords: Array.from({ length: n }, (_, i) =>
              newLogRecord({
                timeUnixNano: 1_700_000_000_000_000_000n + BigInt(i),
                observedTimeUnixNano: 1_700_000_000_000_000_100n,
                severityNumber: 9,
                severityText: 'INFO',
                body: `request ${i}`,
                attributes: [
                  { key: 'http.response.status_code', value: 200n },
                  { key: 'url.path', value: `/api/items/${i}` },
                  { key: 'ratio', value: 0.5 },
                  { key: 'ok', value: true },
                  { key: 'nested', value: new KvList([{ key: 'a', value: [1n, 'x'] }]) },
                ],
                traceId: (i + 1).toString(16).padStart(32, '0'),
                spanId: (i + 1).toString(16).padStart(16, '0'),
              }),
            ),
          },
        ],
      },
    ],
  };
}

export function sampleTraces(n = 2, service = 'checkout'): TracesData {
  return {
    resourceSpans: [
      {
        resource: { attributes: [{ key: 'service.name', value: service }], droppedAttributesCount: 0 },
        schemaUrl: '',
        scopeSpans: [
          {
            scope: { name: 'test', version: '1', attributes: [], droppedAttributesCount: 0 },
            schemaUrl: '',
            spans: Array.from({ length: n }, (_, i) =>
              newSpan({
                traceId: (i + 1).toString(16).padStart(32, '0'),
                spanId: (i + 1).toString(16).padStart(16, '0'),
                name: `GET /api/items/${i}`,
                kind: 2,
                startTimeUnixNano: 1_700_000_000_000_000_000n,
                endTimeUnixNano: 1_700_000_000_005_000_000n,
                attributes: [{ key: 'http.request.method', value: 'GET' }],
              }),
            ),
          },
        ],
      },
    ],
  };
}

/** An error a `waitFor` poll throws to stop waiting at once (e.g. the process under test died). */
export class StopWaiting extends Error {}

/** Polls `fn` until it returns a truthy value or `timeoutMs` passes (a StopWaiting error ends it at once). */
export async function waitFor<T>(fn: () => T | Promise<T>, timeoutMs = 20_000, what = "condition"): Promise<Exclude<T, undefined | null | false>> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as Exclude<T, undefined | null | false>;
    } catch (err) {
      if (err instanceof StopWaiting) throw err;
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
