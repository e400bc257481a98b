/**
 * trace_summary: one row per trace, kept right under late data and
 * redelivery by aggregating partial rows at read time, never by
 * read-modify-write.
 *
 *   correlate ──── one partial row per trace per flush ────┐
 *   audit_events ── MV (row by row, no GROUP BY) ───────────┤
 *                                                          ▼
 *   trace_summary_parts (MergeTree, ORDER BY TraceId: a trace's rows sit together)
 *                                                          ▼
 *   trace_summary (VIEW: GROUP BY TraceId over the parts, one row per trace)
 *
 * Counts come from sets of ids (span ids, a log key, an audit-event hash)
 * merged with groupUniqArrayArray, never from sums: a payload written twice
 * (Kafka redelivery, a retried insert) counts once, and min/max/union are
 * idempotent too. Spans or logs arriving after the window add another
 * partial row. Nothing is read back to be rewritten.
 *
 * Why a plain MergeTree and not an AggregatingMergeTree: measured on the
 * bench workload (docs/benchmarks-log.md), uniqExact states built by an MV cost the
 * most, SimpleAggregateFunction id sets were cheaper to insert but every
 * background merge re-hashed them; plain rows
 * merge by sorting only, and a lookup by TraceId reads a few adjacent rows.
 * The price: a trace keeps one row per flush that held it (typically 2-3).
 */

export interface SummaryTableOptions {
  database: string;
  /** The view's name; the table is `<table>_parts`, the audit MV `<table>_audit_mv`. */
  table: string;
  /** The audit processor's table, counted into the summary ('' = none). */
  auditTable: string;
  ttlMs: number;
  /** The store's retention policy rendered for the parts table (lib/retention; '' = none), instead of ttlMs. */
  retention?: string;
}

/** No start seen yet: larger than any time, so min() ignores it. */
export const NO_START = '18446744073709551615';

export const PARTS_COLUMNS = ['TraceId', 'MinStart', 'MaxEnd', 'Root', 'SpanIds', 'ErrorSpanIds', 'Services', 'LogIds', 'AuditIds', 'Principals'] as const;

export const names = (o: SummaryTableOptions) => ({
  view: `${o.database}.${o.table}`,
  parts: `${o.database}.${o.table}_parts`,
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
    `CREATE TABLE IF NOT EXISTS ${n.parts} (
    TraceId String CODEC(ZSTD(1)),
    MinStart UInt64,
    MaxEnd UInt64,
    Root Tuple(UInt64, String, String),
    SpanIds Array(String) CODEC(ZSTD(1)),
    ErrorSpanIds Array(String),
    Services Array(LowCardinality(String)),
    LogIds Array(UInt64) CODEC(ZSTD(1)),
    AuditIds Array(Tuple(String, UInt64)),
    Principals Array(String),
    LastUpdate DateTime DEFAULT now()
) ENGINE = MergeTree()
PARTITION BY toDate(LastUpdate)
ORDER BY TraceId
${o.retention !== undefined ? (o.retention ? `TTL ${o.retention}` : '') : ttl(o.ttlMs)}
SETTINGS index_granularity = 8192, ttl_only_drop_parts = 1`,
    `CREATE VIEW IF NOT EXISTS ${n.view} AS
SELECT
    TraceId,
    if(start = ${NO_START}, NULL, fromUnixTimestamp64Nano(toInt64(start))) AS Start,
    if(end = 0, NULL, fromUnixTimestamp64Nano(toInt64(end))) AS End,
    if(start = ${NO_START} OR end < start, toUInt64(0), end - start) AS DurationNs,
    root.2 AS RootService,
    root.3 AS RootName,
    toUInt32(length(spans)) AS SpanCount,
    toUInt32(length(errors)) AS ErrorCount,
    arraySort(services) AS Services,
    toUInt32(length(logs)) AS LogCount,
    mapFromArrays(arraySort(arrayDistinct(cats)), arrayMap(c -> toUInt32(countEqual(cats, c)), arraySort(arrayDistinct(cats)))) AS AuditEvents,
    arraySort(principals) AS Principals,
    updated AS Updated
FROM (
    SELECT
        TraceId,
        min(MinStart) AS start,
        max(MaxEnd) AS end,
        min(Root) AS root,
        groupUniqArrayArray(SpanIds) AS spans,
        groupUniqArrayArray(ErrorSpanIds) AS errors,
        groupUniqArrayArray(Services) AS services,
        groupUniqArrayArray(LogIds) AS logs,
        arrayMap(x -> x.1, groupUniqArrayArray(AuditIds)) AS cats,
        groupUniqArrayArray(Principals) AS principals,
        max(LastUpdate) AS updated
    FROM ${n.parts}
    GROUP BY TraceId
)`,
  ];
  if (n.audit) {
    out.push(`CREATE MATERIALIZED VIEW IF NOT EXISTS ${n.auditMv} TO ${n.parts} AS
SELECT
    TraceId,
    toUInt64(${NO_START}) AS MinStart,
    toUInt64(0) AS MaxEnd,
    (toUInt64(${NO_START}), '', '') AS Root,
    CAST([], 'Array(String)') AS SpanIds,
    CAST([], 'Array(String)') AS ErrorSpanIds,
    CAST([], 'Array(String)') AS Services,
    CAST([], 'Array(UInt64)') AS LogIds,
    [(toString(Category), cityHash64(Timestamp, Category, Action, Outcome, Principal, Resource, Policy, SpanId))] AS AuditIds,
    if(Principal != '', [Principal], CAST([], 'Array(String)')) AS Principals,
    now() AS LastUpdate
FROM ${n.audit}
WHERE TraceId != ''`);
  }
  return out;
}
