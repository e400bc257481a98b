/**
 * `trailhouse alerts`: the alerts in audit_alerts, and their triage.
 *
 *   trailhouse alerts [--status open|acknowledged|resolved|all] [--detector D]
 *                     [--since 7d] [--limit 100] [--json]
 *   trailhouse alerts ack ID --note "…"
 *   trailhouse alerts resolve ID --note "…"
 *                     [--endpoint URL] [--database otel] [--user U --password P]
 *
 * Listing is a SELECT through the query interface (any role that may read
 * audit_alerts); without --status it lists the alerts not resolved, newest
 * sighting first. ack / resolve POST to the query interface's
 * `/alerts/<id>/<action>` as the authenticated user (role `responder`), who
 * is recorded on the alert and in audit_events.
 */
import { parseDuration } from '../../core/config/schema.ts';
import { flag, parseArgs } from './args.ts';
import { connFrom, isoNanos, printable, QueryError, select, stdio, table, type Conn, type Io } from './oncall-http.ts';

const USAGE = `usage: trailhouse alerts [--status open|acknowledged|resolved|all] [--detector D] [--since 7d] [--limit N] [--json]
       trailhouse alerts ack|resolve ID --note "why"
       (all: [--endpoint http://127.0.0.1:8123] [--database otel] [--user U --password P])
`;

const STATUSES = ['open', 'acknowledged', 'resolved'];

export interface AlertListRow {
  Id: string;
  FirstSeenNs: string;
  LastSeenNs: string;
  Detector: string;
  Severity: string;
  Principal: string;
  Source: string;
  Destination: string;
  Resource: string;
  Reason: string;
  Count: string;
  EventIds: string[];
  TraceIds: string[];
  Status: string;
  StatusBy: string;
  StatusAtNs: string;
  Note: string;
}

const LIST_SQL = `SELECT Id, toString(toUnixTimestamp64Nano(FirstSeen)) AS FirstSeenNs, toString(toUnixTimestamp64Nano(LastSeen)) AS LastSeenNs,
  Detector, Severity, Principal, Source, Destination, Resource, Reason, toString(Count) AS Count, EventIds, TraceIds, Status, StatusBy,
  toString(toUnixTimestamp64Nano(StatusAt)) AS StatusAtNs, Note
FROM audit_alerts FINAL
WHERE has({statuses:Array(String)}, Status) AND LastSeen >= now64(9) - toIntervalSecond({since:UInt64})
  AND ({detector:String} = '' OR Detector = {detector:String})
ORDER BY LastSeen DESC LIMIT {limit:UInt32}`;

export async function alertsCommand(argv: string[], io: Io = stdio): Promise<number> {
  const args = parseArgs(argv, ['json', 'help']);
  if (args.flags.has('help')) {
    io.out(USAGE);
    return 0;
  }
  const conn = connFrom(args);
  const [verb, id, ...rest] = args.positional;
  if (verb === 'ack' || verb === 'resolve') {
    if (!id || rest.length) return usage(io, `alerts ${verb}: give one alert id`);
    return triage(conn, verb, id, flag(args, 'note'), args.flags.has('json'), io);
  }
  if (verb !== undefined) return usage(io, `unknown alerts command ${JSON.stringify(verb)}`);
  const status = flag(args, 'status');
  if (status !== undefined && status !== 'all' && !STATUSES.includes(status)) return usage(io, `--status: one of ${STATUSES.join(', ')}, all`);
  const since = parseDuration(flag(args, 'since') ?? '7d');
  if (since === undefined || since <= 0) return usage(io, '--since: a duration like 24h or 7d');
  const limit = Number(flag(args, 'limit') ?? 100);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) return usage(io, '--limit: 1..100000');
  const statuses = status === 'all' ? STATUSES : status ? [status] : ['open', 'acknowledged'];
  let rows: AlertListRow[];
  try {
    rows = await select<AlertListRow>(conn, LIST_SQL, {
      statuses: `[${statuses.map((s) => `'${s}'`).join(',')}]`,
      since: String(Math.ceil(since / 1000)),
      detector: flag(args, 'detector') ?? '',
      limit: String(limit),
    });
  } catch (err) {
    if (err instanceof QueryError && (err.code === 60 || err.code === 81)) {
      io.err('no audit_alerts table yet: no alerts extension has started on this store\n');
      return 1;
    }
    io.err(`${(err as Error).message}\n`);
    return 1;
  }
  if (args.flags.has('json')) {
    io.out(JSON.stringify(rows.map(toJson), null, 2) + '\n');
    return 0;
  }
  if (!rows.length) {
    io.out('no alerts\n');
    return 0;
  }
  io.out(
    table(
      ['ID', 'LAST SEEN', 'STATUS', 'SEVERITY', 'DETECTOR', 'COUNT', 'PRINCIPAL', 'DESTINATION', 'REASON'],
      rows.map((r) => [r.Id, isoNanos(r.LastSeenNs).slice(0, 19) + 'Z', r.Status, r.Severity, r.Detector, r.Count, r.Principal || r.Source, r.Destination, r.Reason]),
    ),
  );
  const traces = rows.flatMap((r) => r.TraceIds.slice(0, 1).map((t) => `  ${r.Id}: trailhouse trace ${printable(t)}`));
  if (traces.length) io.out(`evidence:\n${traces.join('\n')}\n`);
  return 0;
}

function toJson(r: AlertListRow) {
  return {
    id: r.Id,
    status: r.Status,
    detector: r.Detector,
    severity: r.Severity,
    principal: r.Principal,
    source: r.Source,
    destination: r.Destination,
    resource: r.Resource,
    reason: r.Reason,
    count: Number(r.Count),
    first_seen: isoNanos(r.FirstSeenNs),
    last_seen: isoNanos(r.LastSeenNs),
    event_ids: r.EventIds,
    trace_ids: r.TraceIds,
    status_by: r.StatusBy,
    status_at: r.StatusAtNs === '0' ? null : isoNanos(r.StatusAtNs),
    note: r.Note,
  };
}

async function triage(c: Conn, verb: 'ack' | 'resolve', id: string, note: string | undefined, json: boolean, io: Io): Promise<number> {
  if (!/^[0-9a-f]{16}$/.test(id)) return usage(io, `alerts ${verb}: an alert id is 16 hex digits, got ${JSON.stringify(id.slice(0, 40))}`);
  if (!note?.trim()) return usage(io, `alerts ${verb}: --note "why" is required (it is the triage record)`);
  const base = new URL(c.endpoint.includes('://') ? c.endpoint : `http://${c.endpoint}`);
  // Under the endpoint's own path, as queries are (a proxy may serve the interface below a prefix).
  const url = new URL(base);
  url.pathname = `${base.pathname.replace(/\/+$/, '')}/alerts/${encodeURIComponent(id)}/${verb}`;
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (c.user) headers['X-ClickHouse-User'] = c.user;
  if (c.password) headers['X-ClickHouse-Key'] = c.password;
  let res: Response;
  try {
    res = await fetch(url, { method: 'POST', headers, body: JSON.stringify({ note }) });
  } catch (err) {
    io.err(`cannot reach ${url.origin}: ${(err as Error).cause instanceof Error ? ((err as Error).cause as Error).message : (err as Error).message}\n`);
    return 1;
  }
  const text = await res.text();
  let body: { alert?: { id: string; status: string; status_by: string }; error?: string; accepted?: boolean; reason?: string } = {};
  try {
    body = JSON.parse(text) as typeof body;
  } catch {
    // The query interface's own refusals (authentication) are ClickHouse's text.
  }
  if (res.status === 202 && body.accepted) {
    io.out(`alert ${id}: accepted, not stored yet (${body.reason ?? ''})\n`);
    return 0;
  }
  if (!res.ok || !body.alert) {
    io.err(`alerts ${verb} ${id}: refused (HTTP ${res.status}): ${body.error ?? text.trim().split('\n')[0]}\n`);
    return 1;
  }
  if (json) io.out(JSON.stringify(body.alert, null, 2) + '\n');
  else io.out(`alert ${body.alert.id} ${body.alert.status} by ${body.alert.status_by}\n`);
  return 0;
}

function usage(io: Io, why: string): number {
  io.err(`${why}\n${USAGE}`);
  return 2;
}
