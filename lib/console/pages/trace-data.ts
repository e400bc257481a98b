/**
 * What the trace page shows, read with the caller's rights: the spans, the
 * logs and audit events of the trace, its summary (processors/correlate's
 * trace_summary view), and the padding: logs of the trace's services just
 * before and after it (or a span), which carry no trace id.
 *
 * The trace's time bounds come from otel_traces_trace_id_ts (ORDER BY
 * TraceId: one granule), so the span and log reads touch only the days of
 * the trace instead of every partition.
 */
import { ConsoleQueryError, type Row } from '../query.ts';
import type { Ctx } from './context.ts';

export const PADS = [0, 1, 5, 30, 60, 300] as const;
const MARGIN_S = 3600;
const MAX_SPANS = 5000;
const MAX_LOGS = 5000;
const MAX_PAD_LOGS = 200;

export interface TraceData {
  id: string;
  spans: Row[];
  logs: Row[];
  audit: Row[];
  summary: Row | null;
  summaryNote: string;
  before: Row[];
  after: Row[];
  startNs: bigint;
  endNs: bigint;
}

async function optional(p: Promise<Row[]>): Promise<Row[] | string> {
  try {
    return await p;
  } catch (err) {
    if (err instanceof ConsoleQueryError && err.missing) return `not available: ${err.message}`;
    throw err;
  }
}

export async function loadTrace(ctx: Ctx, id: string, padS: number, span: string): Promise<TraceData> {
  const { q, caller } = ctx;
  const p = { t: id };
  const bounds = await optional(q.select(caller, 'SELECT toString(toUnixTimestamp(min(Start))) AS lo, toString(toUnixTimestamp(max(End))) AS hi, count() AS n FROM otel_traces_trace_id_ts WHERE TraceId = {t:String}', p));
  const b = typeof bounds === 'string' ? undefined : bounds[0];
  const known = b && Number(b.n) > 0;
  const range = known ? { lo: String(Number(b.lo) - MARGIN_S), hi: String(Number(b.hi) + MARGIN_S) } : null;
  const spanTime = range ? ' AND Timestamp >= toDateTime({lo:Int64}) AND Timestamp <= toDateTime({hi:Int64})' : '';
  const logTime = range ? ' AND TimestampTime >= toDateTime({lo:Int64}) AND TimestampTime <= toDateTime({hi:Int64})' : '';
  const spans = await q.select(
    caller,
    `SELECT SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, toString(toUnixTimestamp64Nano(Timestamp)) AS ns, toString(Duration) AS dur, StatusCode, StatusMessage,
  SpanAttributes, ResourceAttributes, arrayMap((t, n, a) -> (toString(toUnixTimestamp64Nano(t)), n, a), Events.Timestamp, Events.Name, Events.Attributes) AS Events,
  arrayMap((t, s) -> (t, s), Links.TraceId, Links.SpanId) AS Links
FROM otel_traces WHERE TraceId = {t:String}${spanTime} ORDER BY Timestamp LIMIT ${MAX_SPANS}`,
    { ...p, ...range },
  );
  const logs = await q.select(
    caller,
    `SELECT toString(toUnixTimestamp64Nano(Timestamp)) AS ns, SpanId, SeverityText, ServiceName, Body, LogAttributes FROM otel_logs
WHERE TraceId = {t:String}${logTime} ORDER BY Timestamp LIMIT ${MAX_LOGS}`,
    { ...p, ...range },
  );
  const audit = await q.select(
    caller,
    `SELECT toString(toUnixTimestamp64Nano(Timestamp)) AS ns, SpanId, Category, Action, Outcome, Principal, Destination, Resource, Policy, ServiceName, Details['event_id'] AS EventId
FROM audit_events WHERE TraceId = {t:String}${spanTime} ORDER BY Timestamp LIMIT ${MAX_LOGS}`,
    { ...p, ...range },
  );
  const summaryRows = await optional(
    q.select(caller, `SELECT toString(Start) AS Start, toString(End) AS End, toString(DurationNs) AS DurationNs, RootService, RootName, SpanCount, ErrorCount, Services, LogCount, AuditEvents, Principals FROM trace_summary WHERE TraceId = {t:String}`, p),
  );
  // The period the padding is around: the chosen span, or the whole trace.
  const times: bigint[] = [];
  for (const s of spans) {
    if (span && s.SpanId !== span) continue;
    const st = BigInt(String(s.ns));
    times.push(st, st + BigInt(String(s.dur)));
  }
  if (!times.length) for (const r of [...logs, ...audit]) times.push(BigInt(String(r.ns)));
  const startNs = times.length ? times.reduce((a, x) => (x < a ? x : a)) : 0n;
  const endNs = times.length ? times.reduce((a, x) => (x > a ? x : a)) : 0n;
  let before: Row[] = [];
  let after: Row[] = [];
  const services = [...new Set([...spans, ...logs].map((r) => String(r.ServiceName)))];
  if (padS > 0 && times.length && services.length) {
    const pad = BigInt(padS) * 1_000_000_000n;
    const near = (lo: bigint, hi: bigint, order: string) =>
      q.select(
        caller,
        `SELECT toString(toUnixTimestamp64Nano(Timestamp)) AS ns, TraceId, SpanId, SeverityText, ServiceName, Body FROM otel_logs
WHERE ServiceName IN {svc:Array(String)} AND Timestamp >= fromUnixTimestamp64Nano({lo:Int64}) AND Timestamp < fromUnixTimestamp64Nano({hi:Int64}) AND TraceId != {t:String}
ORDER BY Timestamp ${order} LIMIT ${MAX_PAD_LOGS}`,
        { t: id, svc: `[${services.map((s) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`).join(',')}]`, lo: String(lo), hi: String(hi) },
      );
    before = (await near(startNs - pad, startNs, 'DESC')).reverse();
    after = await near(endNs + 1n, endNs + 1n + pad, 'ASC');
  }
  return {
    id,
    spans,
    logs,
    audit,
    summary: typeof summaryRows === 'string' ? null : (summaryRows[0] ?? null),
    summaryNote: typeof summaryRows === 'string' ? summaryRows : summaryRows.length ? '' : 'no summary row for this trace (yet: correlate writes it after its window)',
    before,
    after,
    startNs,
    endNs,
  };
}
