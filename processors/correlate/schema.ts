/**
 * trace_summary: one row per trace, kept right under late data and
 * redelivery by an aggregating design instead of a read-modify-write.
 *
 *   trace_summary_input (Null engine)  ← correlate: one row per trace per flushed payload group
 *        └─ MV ─┐
 *   audit_events ─ MV ─┤              ← the audit processor's events (counts per category, principals)
 *                      ▼
 *   trace_summary_state (AggregatingMergeTree, ORDER BY TraceId)
 *                      ▼
 *   trace_summary (VIEW: merges the states, one row per trace)
 *
 * Counts are uniqExact over ids (span ids, a log key, an audit-event hash),
 * not sums, so a payload written twice (Kafka redelivery, a retried insert)
 * counts once; min/max/set-union are idempotent too; spans or logs that
 * arrive after the window add another partial row that merges in. Nothing
 * is ever read back to be rewritten.
 */

export interface SummaryTableOptions {
  database: string;
  /** Base name: `<table>` (the view), `<table>_state`, `<table>_input`. */
  table: string;
  /** The audit processor's table to count events from ('' = none). */
  auditTable: string;
  ttlMs: number;
}

export const INPUT_COLUMNS = ['TraceId', 'StartNs', 'EndNs', 'RootService', 'RootName', 'RootStartNs', 'SpanIds', 'ErrorSpanIds', 'Services', 'LogIds'] as const;

export const names = (o: SummaryTableOptions) => ({
  view: `${o.database}.${o.table}`,
  state: `${o.database}.${o.table}_state`,
  input: `${o.database}.${o.table}_input`,
  inputMv: `${o.database}.${o.table}_input_mv`,
  auditMv: `${o.database}.${o.table}_audit_mv`,
  audit: o.auditTable ? `${o.database}.${o.auditTable}` : '',
});

function ttl(ms: number): string {
  if (ms <= 0) return '';
  return `TTL LastUpdate + toIntervalSecond(${Math.max(1, Math.floor(ms / 1000))})`;
}

export function summaryStatements(o: SummaryTableOptions): string[] {
  const n = names(o);
  const out = [
    `CREATE TABLE IF NOT EXISTS ${n.state} (
    TraceId String CODEC(ZSTD(1)),
    MinStart SimpleAggregateFunction(min, Nullable(DateTime64(9))),
    MaxEnd SimpleAggregateFunction(max, Nullable(DateTime64(9))),
    RootState AggregateFunction(argMin, Tuple(String, String), DateTime64(9)),
    SpanIdsState AggregateFunction(uniqExact, String),
    ErrorSpanIdsState AggregateFunction(uniqExact, String),
    ServiceSet SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    LogIdsState AggregateFunction(uniqExact, String),
    AuditState AggregateFunction(uniqExactMap, Map(String, UInt64)),
    PrincipalSet SimpleAggregateFunction(groupUniqArrayArray, Array(String)),
    LastUpdate SimpleAggregateFunction(max, DateTime)
) ENGINE = AggregatingMergeTree()
ORDER BY TraceId
${ttl(o.ttlMs)}
SETTINGS index_granularity = 8192`,
    `CREATE TABLE IF NOT EXISTS ${n.input} (
    TraceId String,
    StartNs UInt64,
    EndNs UInt64,
    RootService String,
    RootName String,
    RootStartNs UInt64,
    SpanIds Array(String),
    ErrorSpanIds Array(String),
    Services Array(String),
    LogIds Array(String)
) ENGINE = Null`,
    `CREATE MATERIALIZED VIEW IF NOT EXISTS ${n.inputMv} TO ${n.state} AS
SELECT
    TraceId,
    min(if(StartNs > 0, fromUnixTimestamp64Nano(toInt64(StartNs)), NULL)) AS MinStart,
    max(if(EndNs > 0, fromUnixTimestamp64Nano(toInt64(EndNs)), NULL)) AS MaxEnd,
    argMinIfState((RootService, RootName), fromUnixTimestamp64Nano(toInt64(RootStartNs)), RootName != '' OR RootService != '') AS RootState,
    uniqExactArrayState(SpanIds) AS SpanIdsState,
    uniqExactArrayState(ErrorSpanIds) AS ErrorSpanIdsState,
    groupUniqArrayArray(Services) AS ServiceSet,
    uniqExactArrayState(LogIds) AS LogIdsState,
    uniqExactMapStateIf(map('', toUInt64(0)), 0) AS AuditState,
    groupUniqArrayArray(CAST([], 'Array(String)')) AS PrincipalSet,
    max(now()) AS LastUpdate
FROM ${n.input}
GROUP BY TraceId`,
    `CREATE VIEW IF NOT EXISTS ${n.view} AS
SELECT
    TraceId,
    min(MinStart) AS Start,
    max(MaxEnd) AS End,
    toUInt64(greatest(0, dateDiff('nanosecond', min(MinStart), max(MaxEnd)))) AS DurationNs,
    argMinMerge(RootState).1 AS RootService,
    argMinMerge(RootState).2 AS RootName,
    toUInt32(uniqExactMerge(SpanIdsState)) AS SpanCount,
    toUInt32(uniqExactMerge(ErrorSpanIdsState)) AS ErrorCount,
    arraySort(groupUniqArrayArray(ServiceSet)) AS Services,
    toUInt32(uniqExactMerge(LogIdsState)) AS LogCount,
    CAST(uniqExactMapMerge(AuditState), 'Map(String, UInt32)') AS AuditEvents,
    arraySort(groupUniqArrayArray(PrincipalSet)) AS Principals,
    max(LastUpdate) AS Updated
FROM ${n.state}
GROUP BY TraceId`,
  ];
  if (n.audit) {
    out.push(`CREATE MATERIALIZED VIEW IF NOT EXISTS ${n.auditMv} TO ${n.state} AS
SELECT
    TraceId,
    CAST(NULL, 'Nullable(DateTime64(9))') AS MinStart,
    CAST(NULL, 'Nullable(DateTime64(9))') AS MaxEnd,
    argMinIfState((toString(''), toString('')), toDateTime64(0, 9), 0) AS RootState,
    uniqExactStateIf('', 0) AS SpanIdsState,
    uniqExactStateIf('', 0) AS ErrorSpanIdsState,
    CAST([], 'Array(String)') AS ServiceSet,
    uniqExactStateIf('', 0) AS LogIdsState,
    uniqExactMapState(map(toString(Category), cityHash64(Timestamp, Category, Action, Outcome, Principal, Resource, Policy, SpanId))) AS AuditState,
    groupUniqArrayArray(if(Principal != '', [Principal], CAST([], 'Array(String)'))) AS PrincipalSet,
    max(now()) AS LastUpdate
FROM ${n.audit}
WHERE TraceId != ''
GROUP BY TraceId`);
  }
  return out;
}
