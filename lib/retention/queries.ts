/**
 * What `trailhouse retention` and the evidence report read of the retention
 * tables (ledger.ts): the rules in force per table, and the deletion ledger
 * per rule and day. Parameters are bound server-side.
 */

/** The latest applied TTL and rules per table. */
export const POLICY_SQL = `SELECT Database, Table, RuleTable, argMax(Ttl, AppliedAt) AS Ttl, toString(max(AppliedAt)) AS Applied,
  argMax(Rules, AppliedAt) AS Rules FROM retention_policy GROUP BY Database, Table, RuleTable ORDER BY Database, Table`;

/** The ledger counted in the last {since:UInt64} seconds. */
export const LEDGER_SQL = `SELECT toString(Day) AS Day, Table, Rule, toString(Source) AS Source, toString(sum(Rows)) AS Rows,
  toString(min(MinTime)) AS MinTime, toString(max(MaxTime)) AS MaxTime FROM retention_ledger
  WHERE RecordedAt >= now64(3) - toIntervalSecond({since:UInt64})
  GROUP BY Day, Table, Rule, Source ORDER BY Day DESC, Table, Rule, Source`;

/** The ledger counted between {from:Int64} and {to:Int64} (ns since the epoch). */
export const LEDGER_PERIOD_SQL = `SELECT toString(Day) AS Day, Table, Rule, toString(Source) AS Source, toString(sum(Rows)) AS Rows,
  toString(min(MinTime)) AS MinTime, toString(max(MaxTime)) AS MaxTime FROM retention_ledger
  WHERE RecordedAt >= fromUnixTimestamp64Nano({from:Int64}) AND RecordedAt < fromUnixTimestamp64Nano({to:Int64})
  GROUP BY Day, Table, Rule, Source ORDER BY Day, Table, Rule, Source`;
