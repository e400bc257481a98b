/**
 * The consumer behind every fuzzed receiver. It never refuses, and checks
 * that what a receiver accepted is valid: the records can be built (a lazy
 * payload decodes), re-encoded as OTLP protobuf and decoded back to the same
 * count, and encoded as OTLP/JSON and decoded back. Anything else is recorded
 * as an "accepted invalid payload" finding against the case being run.
 */
import type { LogsConsumer, TracesConsumer } from '../../core/component.ts';
import type { LogsData, TracesData } from '../../core/model.ts';
import type { LogsPayload, TracesPayload } from '../../core/payload.ts';
import { decodeLogsJson, decodeLogsProto, decodeTracesJson, decodeTracesProto, encodeLogsJson, encodeLogsProto, encodeTracesJson, encodeTracesProto } from '../../core/otlp/index.ts';

const logCount = (d: LogsData) => d.resourceLogs.reduce((n, rl) => n + rl.scopeLogs.reduce((m, sl) => m + sl.logRecords.length, 0), 0);
const spanCount = (d: TracesData) => d.resourceSpans.reduce((n, rs) => n + rs.scopeSpans.reduce((m, ss) => m + ss.spans.length, 0), 0);

export class FuzzSink implements LogsConsumer, TracesConsumer {
  /** Payloads handed on so far. */
  received = 0;
  /** Why accepted payloads were invalid, oldest first. */
  readonly invalid: string[] = [];

  async consumeLogs(p: LogsPayload): Promise<void> {
    this.received++;
    this.check(() => {
      const data = p.records();
      const n = logCount(data);
      const back = decodeLogsProto(encodeLogsProto(data));
      if (logCount(back) !== n) throw new Error(`protobuf round trip has ${logCount(back)} records, not ${n}`);
      const json = decodeLogsJson(encodeLogsJson(data));
      if (logCount(json) !== n) throw new Error(`OTLP/JSON round trip has ${logCount(json)} records, not ${n}`);
    });
  }

  async consumeTraces(p: TracesPayload): Promise<void> {
    this.received++;
    this.check(() => {
      const data = p.records();
      const n = spanCount(data);
      const back = decodeTracesProto(encodeTracesProto(data));
      if (spanCount(back) !== n) throw new Error(`protobuf round trip has ${spanCount(back)} spans, not ${n}`);
      const json = decodeTracesJson(encodeTracesJson(data));
      if (spanCount(json) !== n) throw new Error(`OTLP/JSON round trip has ${spanCount(json)} spans, not ${n}`);
    });
  }

  private check(fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.invalid.push(`accepted payload is invalid: ${(err as Error).message}`);
    }
  }
}
