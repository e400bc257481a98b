/**
 * `trailhouse trace <trace-id>`: one request as the on-call engineer needs
 * it — the span tree with durations and status, then the trace's logs and
 * audit events interleaved in time order — from otel_traces, otel_logs,
 * audit_events and trace_summary.
 *
 *   trailhouse trace <trace-id> [--json] [--endpoint URL] [--database otel] [--user U --password P]
 *
 * JSON: {traceId, summary, spans: [...], logs: [...], auditEvents: [...]};
 * summary is null when the correlate processor has not summarised the trace.
 * Exit status 1 when nothing of the trace is stored.
 */
import { parseArgs } from './args.ts';
import { AUDIT_SELECT, toAuditEvent, type AuditEventJson, type AuditRow } from './audit.ts';
import { clock, connFrom, fmtDuration, isoNanos, QueryError, select, selectOptional, stdio, type Io } from './oncall-http.ts';

export interface SpanJson {
  time: string;
  spanId: string;
  parentSpanId: string;
  name: string;
  kind: string;
  service: string;
  durationNs: number;
  status: string;
  statusMessage: string;
  attributes: Record<string, string>;
}

export interface LogJson {
  time: string;
  spanId: string;
  severity: string;
  service: string;
  body: string;
  attributes: Record<string, string>;
}

export interface SummaryJson {
  start: string | null;
  end: string | null;
  durationNs: number;
  rootService: string;
  rootName: string;
  spanCount: number;
  errorCount: number;
  services: string[];
  logCount: number;
  auditEvents: Record<string, number>;
  principals: string[];
}

export interface TraceJson {
  traceId: string;
  summary: SummaryJson | null;
  spans: SpanJson[];
  logs: LogJson[];
  auditEvents: AuditEventJson[];
}

const USAGE = 'usage: trailhouse trace <trace-id> [--json] [--endpoint URL] [--database otel]\n';

const num = (v: unknown) => Number(v ?? 0);

export async function fetchTrace(argsConn: ReturnType<typeof connFrom>, traceId: string): Promise<TraceJson> {
  const p = { id: traceId };
  const [spans, logs, audit, summary] = await Promise.all([
    select<Record<string, unknown>>(
      argsConn,
      `SELECT toString(toUnixTimestamp64Nano(Timestamp)) AS ns, SpanId, ParentSpanId, SpanName, SpanKind, ServiceName, Duration, StatusCode, StatusMessage, SpanAttributes
       FROM otel_traces WHERE TraceId = {id:String} ORDER BY Timestamp`,
      p,
    ),
    select<Record<string, unknown>>(
      argsConn,
      `SELECT toString(toUnixTimestamp64Nano(Timestamp)) AS ns, SpanId, SeverityText, ServiceName, Body, LogAttributes
       FROM otel_logs WHERE TraceId = {id:String} ORDER BY Timestamp`,
      p,
    ),
    selectOptional<AuditRow>(argsConn, `${AUDIT_SELECT} WHERE TraceId = {id:String} ORDER BY Timestamp`, p),
    selectOptional<Record<string, unknown>>(
      argsConn,
      `SELECT toString(toUnixTimestamp64Nano(Start)) AS s, toString(toUnixTimestamp64Nano(End)) AS e, DurationNs, RootService, RootName,
              SpanCount, ErrorCount, Services, LogCount, AuditEvents, Principals
       FROM trace_summary WHERE TraceId = {id:String}`,
      p,
    ),
  ]);
  const s = summary?.[0];
  return {
    traceId,
    summary: s
      ? {
          start: s.s == null ? null : isoNanos(s.s as string),
          end: s.e == null ? null : isoNanos(s.e as string),
          durationNs: num(s.DurationNs),
          rootService: s.RootService as string,
          rootName: s.RootName as string,
          spanCount: num(s.SpanCount),
          errorCount: num(s.ErrorCount),
          services: s.Services as string[],
          logCount: num(s.LogCount),
          auditEvents: Object.fromEntries(Object.entries(s.AuditEvents as Record<string, unknown>).map(([k, v]) => [k, num(v)])),
          principals: s.Principals as string[],
        }
      : null,
    spans: spans.map((r) => ({
      time: isoNanos(r.ns as string),
      spanId: r.SpanId as string,
      parentSpanId: r.ParentSpanId as string,
      name: r.SpanName as string,
      kind: r.SpanKind as string,
      service: r.ServiceName as string,
      durationNs: num(r.Duration),
      status: r.StatusCode as string,
      statusMessage: r.StatusMessage as string,
      attributes: r.SpanAttributes as Record<string, string>,
    })),
    logs: logs.map((r) => ({
      time: isoNanos(r.ns as string),
      spanId: r.SpanId as string,
      severity: r.SeverityText as string,
      service: r.ServiceName as string,
      body: r.Body as string,
      attributes: r.LogAttributes as Record<string, string>,
    })),
    auditEvents: (audit ?? []).map(toAuditEvent),
  };
}

/** The body, or for an access log with fields only (Envoy's OTel logger), the request in one line. */
function logText(l: LogJson): string {
  const body = l.body.replace(/\s+$/, '');
  if (body) return body;
  const a = l.attributes;
  const pick = (...keys: string[]) => keys.map((k) => a[k]).find((v) => v && v !== '-') ?? '';
  return [pick('method', 'http.request.method'), pick('path', 'url.path'), pick('response_code', 'http.response.status_code'), pick('response_flags'), pick('response_code_details')]
    .filter((x) => x && x !== '-')
    .join(' ');
}

export function renderTrace(t: TraceJson): string {
  const out: string[] = [];
  const s = t.summary;
  if (s) {
    const audit = Object.entries(s.auditEvents).map(([k, v]) => `${k}=${v}`).join(' ') || 'none';
    out.push(`trace ${t.traceId}  ${s.rootService}: ${s.rootName || '(no root span)'}  ${fmtDuration(s.durationNs)}  spans ${s.spanCount}  errors ${s.errorCount}  logs ${s.logCount}`);
    out.push(`services: ${s.services.join(', ') || '-'}   audit: ${audit}   principals: ${s.principals.join(', ') || '-'}`);
  } else out.push(`trace ${t.traceId}  spans ${t.spans.length}  logs ${t.logs.length}  audit events ${t.auditEvents.length}`);

  out.push('', 'SPANS');
  const ids = new Set(t.spans.map((sp) => sp.spanId));
  const children = new Map<string, SpanJson[]>();
  for (const sp of t.spans) {
    const parent = sp.parentSpanId && ids.has(sp.parentSpanId) ? sp.parentSpanId : '';
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent)!.push(sp);
  }
  const walk = (parent: string, depth: number) => {
    for (const sp of children.get(parent) ?? []) {
      const label = `${'   '.repeat(Math.max(0, depth - 1))}${depth ? '└─ ' : ''}${sp.name}`;
      const status = sp.status === 'Error' ? `ERROR${sp.statusMessage ? ` ${sp.statusMessage}` : ''}` : sp.status;
      out.push(`  ${label.padEnd(48)} ${sp.service.padEnd(22)} ${sp.kind.padEnd(8)} ${fmtDuration(sp.durationNs).padStart(9)}  ${status}`);
      walk(sp.spanId, depth + 1);
    }
  };
  walk('', 0);
  if (!t.spans.length) out.push('  (no spans stored)');

  out.push('', 'TIMELINE (logs and audit events)');
  const items: Array<[string, string]> = [
    ...t.logs.map((l): [string, string] => [l.time, `log    ${(l.severity || '-').padEnd(6)} ${l.service.padEnd(18)} ${logText(l).slice(0, 160)}`]),
    ...t.auditEvents.map((e): [string, string] => [
      e.time,
      `AUDIT  ${e.category}/${e.action} ${e.outcome.toUpperCase()}  principal=${e.principal || '-'}  ${e.resource || e.destination}${e.policy ? `  policy=${e.policy}` : ''}`,
    ]),
  ].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  for (const [time, line] of items) out.push(`  ${clock(time)}  ${line}`);
  if (!items.length) out.push('  (none)');
  return out.join('\n') + '\n';
}

export async function traceCommand(argv: string[], io: Io = stdio): Promise<number> {
  const args = parseArgs(argv, ['json', 'help']);
  if (args.flags.has('help')) {
    io.out(USAGE);
    return 0;
  }
  const id = args.positional[0]?.toLowerCase();
  if (!id || args.positional.length > 1 || !/^[0-9a-f]{32}$/.test(id)) {
    io.err(`trailhouse trace: expected one trace id (32 hex digits)${id ? `, got ${JSON.stringify(args.positional[0])}` : ''}\n${USAGE}`);
    return 2;
  }
  let t: TraceJson;
  try {
    t = await fetchTrace(connFrom(args), id);
  } catch (err) {
    io.err(`trailhouse trace: ${(err as Error).message}\n`);
    return err instanceof QueryError && err.code === 0 ? 3 : 1;
  }
  const found = t.spans.length + t.logs.length + t.auditEvents.length > 0 || t.summary !== null;
  if (args.flags.has('json')) io.out(JSON.stringify(t, null, 2) + '\n');
  else io.out(found ? renderTrace(t) : `no spans, logs or audit events stored for trace ${id}\n`);
  return found ? 0 : 1;
}
