/**
 * Joining payloads into one, and splitting payloads into pieces of at most N
 * items, keeping each record under its own resource and scope. Used by the
 * batch processor (send_batch_max_size), a sending queue's `batch`, and
 * exporters with a size limit.
 */
import type { LogsData, ResourceLogs, ResourceSpans, ScopeLogs, ScopeSpans, Signal, TracesData } from './model.ts';
import { pendingRecords, rawProto, setRawProto } from './model.ts';
import { lazyLogs, lazyTraces } from './otlp/lazy.ts';

/**
 * One payload holding the records of `items` in order (their resources side
 * by side). It keeps their bytes (rawProto) when every item has them: two
 * Export requests concatenated are one request whose resources are the
 * union. Items not decoded yet (core/model.ts lazyPayload) stay so. Always a
 * new payload object (without client info: the caller knows whose it is).
 */
export function concatPayloads<D extends LogsData | TracesData>(signal: Signal, items: readonly D[], count: number): D {
  // Not decoded yet, every one: their request bytes are their records.
  const pending = everyParts(items, (d) => pendingRecords(d)?.parts);
  if (pending) return (signal === 'logs' ? lazyLogs(pending, count) : lazyTraces(pending, count)) as D;
  const raw = everyParts(items, rawProto);
  const data = (signal === 'logs'
    ? { resourceLogs: (items as readonly LogsData[]).flatMap((d) => d.resourceLogs) }
    : { resourceSpans: (items as readonly TracesData[]).flatMap((d) => d.resourceSpans) }) as D;
  if (raw) setRawProto(data, raw);
  return data;
}

/** The parts `of` gives for every item, in order; undefined if one has none. */
function everyParts<D>(items: readonly D[], of: (d: D) => readonly Uint8Array[] | undefined): Uint8Array[] | undefined {
  const out: Uint8Array[] = [];
  for (const d of items) {
    const p = of(d);
    if (!p) return undefined;
    out.push(...p);
  }
  return out;
}

export function splitLogs(data: LogsData, max: number): LogsData[] {
  const out: LogsData[] = [];
  let cur: ResourceLogs[] = [];
  let n = 0;
  for (const rl of data.resourceLogs) {
    let rlOut: ResourceLogs | undefined;
    for (const sl of rl.scopeLogs) {
      let i = 0;
      while (i < sl.logRecords.length) {
        if (n === max) {
          out.push({ resourceLogs: cur });
          cur = [];
          rlOut = undefined;
          n = 0;
        }
        const take = Math.min(max - n, sl.logRecords.length - i);
        if (!rlOut) cur.push((rlOut = { resource: rl.resource, schemaUrl: rl.schemaUrl, scopeLogs: [] }));
        const part: ScopeLogs = { scope: sl.scope, schemaUrl: sl.schemaUrl, logRecords: sl.logRecords.slice(i, i + take) };
        rlOut.scopeLogs.push(part);
        i += take;
        n += take;
      }
    }
  }
  if (n > 0) out.push({ resourceLogs: cur });
  return out;
}

export function splitTraces(data: TracesData, max: number): TracesData[] {
  const out: TracesData[] = [];
  let cur: ResourceSpans[] = [];
  let n = 0;
  for (const rs of data.resourceSpans) {
    let rsOut: ResourceSpans | undefined;
    for (const ss of rs.scopeSpans) {
      let i = 0;
      while (i < ss.spans.length) {
        if (n === max) {
          out.push({ resourceSpans: cur });
          cur = [];
          rsOut = undefined;
          n = 0;
        }
        const take = Math.min(max - n, ss.spans.length - i);
        if (!rsOut) cur.push((rsOut = { resource: rs.resource, schemaUrl: rs.schemaUrl, scopeSpans: [] }));
        const part: ScopeSpans = { scope: ss.scope, schemaUrl: ss.schemaUrl, spans: ss.spans.slice(i, i + take) };
        rsOut.scopeSpans.push(part);
        i += take;
        n += take;
      }
    }
  }
  if (n > 0) out.push({ resourceSpans: cur });
  return out;
}
