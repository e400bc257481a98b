/**
 * `trailhouse retention`: the retention rules in force per table (as the TTL
 * the engine has) and the deletion ledger per rule and day, through the
 * query interface (retention_policy and retention_ledger, lib/retention).
 *
 *   trailhouse retention [--since 30d] [--json] [--endpoint URL] [--database otel] [--user U --password P]
 *
 * --since bounds the ledger by when rows were counted (RecordedAt). JSON:
 * {"tables": [{database, table, ruleTable, ttl, appliedAt, rules: [{name,
 * periodSeconds, condition}]}], "ledger": [{day, table, rule, source, rows,
 * minTime, maxTime}]}.
 */
import { parseDuration } from '../../core/config/schema.ts';
import { LEDGER_SQL, POLICY_SQL } from '../../lib/retention/queries.ts';
import { flag, parseArgs } from './args.ts';
import { connFrom, QueryError, selectOptional, stdio, table, type Io } from './oncall-http.ts';

const USAGE = 'usage: trailhouse retention [--since 30d] [--json] [--endpoint URL] [--database otel] [--user U --password P]\n';

interface PolicyRow {
  Database: string;
  Table: string;
  RuleTable: string;
  Ttl: string;
  Applied: string;
  Rules: { name: string; period_seconds: string; condition: string }[];
}

interface LedgerRow {
  Day: string;
  Table: string;
  Rule: string;
  Source: string;
  Rows: string;
  MinTime: string;
  MaxTime: string;
}

/** A period in the largest whole unit: 730d, 12h, 90s. */
function period(seconds: number): string {
  if (seconds % 86_400 === 0) return `${seconds / 86_400}d`;
  if (seconds % 3_600 === 0) return `${seconds / 3_600}h`;
  return `${seconds}s`;
}

export async function retentionCommand(argv: string[], io: Io = stdio): Promise<number> {
  const args = parseArgs(argv, ['json', 'help']);
  if (args.flags.has('help')) {
    io.out(USAGE);
    return 0;
  }
  const since = flag(args, 'since') ?? '30d';
  const sinceMs = parseDuration(since);
  const problems: string[] = [];
  if (sinceMs === undefined || sinceMs <= 0) problems.push(`--since: expected a duration like 30d or 12h, got ${JSON.stringify(since)}`);
  if (args.positional.length) problems.push(`unexpected argument ${JSON.stringify(args.positional[0])}`);
  if (problems.length) {
    io.err(problems.map((p) => `trailhouse retention: ${p}\n`).join('') + USAGE);
    return 2;
  }
  const conn = connFrom(args);
  let policy: PolicyRow[] | null;
  let ledger: LedgerRow[] | null;
  try {
    policy = await selectOptional<PolicyRow>(conn, POLICY_SQL);
    ledger = await selectOptional<LedgerRow>(conn, LEDGER_SQL, { since: String(Math.ceil(sinceMs! / 1000)) });
  } catch (err) {
    io.err(`trailhouse retention: ${(err as Error).message}\n`);
    return err instanceof QueryError && err.code === 0 ? 3 : 1;
  }
  const tables = (policy ?? []).map((p) => ({
    database: p.Database,
    table: p.Table,
    ruleTable: p.RuleTable,
    ttl: p.Ttl,
    appliedAt: p.Applied,
    rules: p.Rules.map((r) => ({ name: r.name, periodSeconds: Number(r.period_seconds), condition: r.condition })),
  }));
  const entries = (ledger ?? []).map((l) => ({ day: l.Day, table: l.Table, rule: l.Rule, source: l.Source, rows: Number(l.Rows), minTime: l.MinTime, maxTime: l.MaxTime }));
  if (args.flags.has('json')) {
    io.out(JSON.stringify({ tables, ledger: entries }, null, 2) + '\n');
    return 0;
  }
  if (policy === null) {
    io.out('no retention policy has been applied to this store (extensions.clickhouse_store.retention)\n');
    return 0;
  }
  const out: string[] = ['RULES IN FORCE (first match wins)\n'];
  for (const t of tables) {
    out.push(`\n${t.database}.${t.table}${t.ruleTable !== t.table ? ` (rules of ${t.ruleTable})` : ''}, applied ${t.appliedAt}\n`);
    if (!t.rules.length) out.push('  no rule: rows are kept without limit\n');
    t.rules.forEach((r, i) => out.push(`  ${i + 1}. ${r.name}  ${period(r.periodSeconds)}  ${r.condition || 'every row'}\n`));
    out.push(`  TTL ${t.ttl || '(none)'}\n`);
  }
  out.push(`\nLEDGER (counted in the last ${since})\n`);
  if (!entries.length) out.push('nothing expired in that period\n');
  else out.push(table(['DAY', 'TABLE', 'RULE', 'SOURCE', 'ROWS', 'FROM', 'TO'], entries.map((e) => [e.day, e.table, e.rule, e.source, String(e.rows), e.minTime.slice(0, 23), e.maxTime.slice(0, 23)])));
  io.out(out.join(''));
  return 0;
}
