/**
 * `trailhouse audit`: audit events for a period, newest first — every denial,
 * authentication failure, policy change and sensitive-endpoint access.
 *
 *   trailhouse audit [--since 1h | --from T --to T] [--category C] [--outcome O]
 *                    [--principal P] [--path GLOB] [--limit N] [--json]
 *                    [--endpoint URL] [--database otel] [--user U --password P]
 *
 * T is RFC 3339 (2024-05-14T09:00:00Z) or anything Date.parse reads; --to
 * defaults to now. --principal matches exactly, or as a pattern with `*`.
 * --path is a glob on the resource (`*` one segment, `**` any). JSON: an
 * array of event objects {time, category, action, outcome, principal, source,
 * destination, resource, policy, traceId, spanId, details}.
 */
import { parseDuration } from '../../core/config/schema.ts';
import { globToRegExp } from '../../processors/audit/glob.ts';
import { CATEGORIES, OUTCOMES } from '../../lib/audit/event.ts';
import { flag, parseArgs } from './args.ts';
import { connFrom, isoNanos, QueryError, select, stdio, table, type Io } from './oncall-http.ts';

export interface AuditEventJson {
  time: string;
  category: string;
  action: string;
  outcome: string;
  principal: string;
  source: string;
  destination: string;
  resource: string;
  policy: string;
  traceId: string;
  spanId: string;
  details: Record<string, string>;
}

export const AUDIT_SELECT = `SELECT toString(toUnixTimestamp64Nano(Timestamp)) AS ns, Category, Action, Outcome, Principal, Source,
  Destination, Resource, Policy, TraceId, SpanId, Details FROM audit_events`;

export interface AuditRow {
  ns: string;
  Category: string;
  Action: string;
  Outcome: string;
  Principal: string;
  Source: string;
  Destination: string;
  Resource: string;
  Policy: string;
  TraceId: string;
  SpanId: string;
  Details: Record<string, string>;
}

export function toAuditEvent(r: AuditRow): AuditEventJson {
  return {
    time: isoNanos(r.ns),
    category: r.Category,
    action: r.Action,
    outcome: r.Outcome,
    principal: r.Principal,
    source: r.Source,
    destination: r.Destination,
    resource: r.Resource,
    policy: r.Policy,
    traceId: r.TraceId,
    spanId: r.SpanId,
    details: r.Details,
  };
}

const USAGE = 'usage: trailhouse audit [--since 1h | --from T --to T] [--category C] [--outcome O] [--principal P] [--path GLOB] [--limit N] [--json] [--endpoint URL]\n';

export function parseTime(s: string): bigint | undefined {
  if (/^\d+$/.test(s)) return BigInt(s) * (s.length > 13 ? 1n : 1_000_000n); // epoch ms, or ns when longer
  const ms = Date.parse(s);
  return Number.isNaN(ms) ? undefined : BigInt(ms) * 1_000_000n;
}

export async function auditCommand(argv: string[], io: Io = stdio): Promise<number> {
  const args = parseArgs(argv, ['json', 'help']);
  if (args.flags.has('help')) {
    io.out(USAGE);
    return 0;
  }
  const problems: string[] = [];
  const nowNs = BigInt(Date.now()) * 1_000_000n;
  let from: bigint | undefined;
  let to = nowNs;
  const since = flag(args, 'since');
  const fromS = flag(args, 'from');
  const toS = flag(args, 'to');
  if (since && fromS) problems.push('give either --since or --from/--to, not both');
  if (fromS) {
    from = parseTime(fromS);
    if (from === undefined) problems.push(`--from: expected a time like 2024-05-14T09:00:00Z, got ${JSON.stringify(fromS)}`);
  }
  if (toS) {
    const t = parseTime(toS);
    if (t === undefined) problems.push(`--to: expected a time like 2024-05-14T10:00:00Z, got ${JSON.stringify(toS)}`);
    else to = t;
  }
  if (!fromS) {
    const ms = parseDuration(since ?? '1h');
    if (ms === undefined) problems.push(`--since: expected a duration like 1h or 30m, got ${JSON.stringify(since)}`);
    else from = to - BigInt(Math.round(ms)) * 1_000_000n;
  }
  const category = flag(args, 'category');
  if (category && !(CATEGORIES as readonly string[]).includes(category)) problems.push(`--category: expected one of ${CATEGORIES.join(', ')}, got ${JSON.stringify(category)}`);
  const outcome = flag(args, 'outcome');
  if (outcome && !(OUTCOMES as readonly string[]).includes(outcome)) problems.push(`--outcome: expected one of ${OUTCOMES.join(', ')}, got ${JSON.stringify(outcome)}`);
  const limit = Number(flag(args, 'limit') ?? 1000);
  if (!Number.isInteger(limit) || limit < 1) problems.push(`--limit: expected a positive integer, got ${JSON.stringify(flag(args, 'limit'))}`);
  if (args.positional.length) problems.push(`unexpected argument ${JSON.stringify(args.positional[0])}`);
  if (problems.length) {
    io.err(problems.map((p) => `trailhouse audit: ${p}\n`).join('') + USAGE);
    return 2;
  }

  const where = ['Timestamp >= fromUnixTimestamp64Nano({from:Int64})', 'Timestamp < fromUnixTimestamp64Nano({to:Int64})'];
  const params: Record<string, string> = { from: String(from!), to: String(to), limit: String(limit) };
  if (category) {
    where.push('Category = {category:String}');
    params.category = category;
  }
  if (outcome) {
    where.push('Outcome = {outcome:String}');
    params.outcome = outcome;
  }
  const principal = flag(args, 'principal');
  if (principal) {
    if (principal.includes('*')) {
      where.push('Principal LIKE {principal:String}');
      params.principal = principal.replace(/[\\%_]/g, '\\$&').replace(/\*/g, '%');
    } else {
      where.push('Principal = {principal:String}');
      params.principal = principal;
    }
  }
  const path = flag(args, 'path');
  if (path) {
    where.push('match(Resource, {path:String})');
    params.path = globToRegExp(path).source;
  }
  const sql = `${AUDIT_SELECT} WHERE ${where.join(' AND ')} ORDER BY Timestamp DESC LIMIT {limit:UInt32}`;
  let events: AuditEventJson[];
  try {
    events = (await select<AuditRow>(connFrom(args), sql, params)).map(toAuditEvent);
  } catch (err) {
    io.err(`trailhouse audit: ${(err as Error).message}\n`);
    return err instanceof QueryError && err.code === 0 ? 3 : 1;
  }
  if (args.flags.has('json')) {
    io.out(JSON.stringify(events, null, 2) + '\n');
    return 0;
  }
  if (!events.length) {
    io.out('no audit events in that period\n');
    return 0;
  }
  io.out(
    table(
      ['TIME', 'CATEGORY', 'ACTION', 'OUTCOME', 'PRINCIPAL', 'SOURCE', 'RESOURCE', 'POLICY', 'TRACE'],
      events.map((e) => [e.time.slice(0, 23) + 'Z', e.category, e.action, e.outcome, e.principal || '-', e.source || '-', e.resource || e.destination || '-', e.policy || '-', e.traceId || '-']),
    ),
  );
  return 0;
}
