/**
 * Joining payloads into one, and splitting payloads into pieces of at most N
 * items, keeping each record under its own resource and scope. Used by the
 * batch processor (send_batch_max_size), a sending queue's `batch`, and
 * exporters with a size limit.
 */
import type { ClientInfo } from './client.ts';
import type { LogsData, ResourceLogs, ResourceSpans, ScopeLogs, ScopeSpans, Signal, TracesData } from './model.ts';
import { Payload, type RecordsOf } from './payload.ts';

/**
 * One payload holding the records of `items` in order (their resources side
 * by side), from `client`. Payloads not decoded yet, every one, stay so: two
 * Export requests concatenated are one request whose resources are the union.
 * Otherwise the records are joined, with their bytes when every item has
 * them (Payload.bytes).
 */
export function concatPayloads<S extends Signal>(signal: S, items: readonly Payload<S>[], count: number, client: ClientInfo | undefined): Payload<S> {
  const pending = everyParts(items, (p) => (p.content.kind === 'bytes' ? p.bytes() : undefined));
  if (pending) return Payload.ofBytes(signal, pending, count, client);
  const raw = everyParts(items, (p) => p.bytes());
  const data = (signal === 'logs'
    ? { resourceLogs: (items as readonly Payload<'logs'>[]).flatMap((p) => p.records().resourceLogs) }
    : { resourceSpans: (items as readonly Payload<'traces'>[]).flatMap((p) => p.records().resourceSpans) }) as RecordsOf<S>;
  return Payload.ofRecords(signal, data, client, raw);
}

/** The parts `of` gives for every item, in order; undefined if one has none. */
function everyParts<P>(items: readonly P[], of: (p: P) => readonly Uint8Array[] | undefined): Uint8Array[] | undefined {
  const out: Uint8Array[] = [];
  for (const p of items) {
    const parts = of(p);
    if (!parts) return undefined;
    for (const x of parts) out.push(x);
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
