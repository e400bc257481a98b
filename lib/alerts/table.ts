/**
 * `<database>.audit_alerts`: one row per version of an alert. A
 * ReplacingMergeTree keyed by Id keeps the highest Version once parts merge;
 * readers that need the current state now read with FINAL (or argMax by
 * Version), so a status change or a repeat is an insert, never an UPDATE.
 */
import { DETECTORS, SEVERITIES } from '../detect/signal.ts';
import { STATUSES, type Alert } from './alert.ts';

export const ALERT_COLUMNS = [
  'Id', 'Key', 'FirstSeen', 'LastSeen', 'Detector', 'Severity', 'Principal', 'Source', 'Destination', 'Resource', 'Reason',
  'Count', 'EventIds', 'TraceIds', 'Status', 'StatusBy', 'StatusAt', 'Note', 'Details', 'Version',
] as const;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

export function alertsTableName(database: string, table: string): string {
  if (!NAME.test(database) || !NAME.test(table)) throw new Error(`alerts table: expected names of letters, digits and _, got ${database}.${table}`);
  return `${database}.${table}`;
}

export function alertsTableSql(full: string): string {
  return `CREATE TABLE IF NOT EXISTS ${full} (
    Id String,
    Key String CODEC(ZSTD(1)),
    FirstSeen DateTime64(9),
    LastSeen DateTime64(9),
    Detector LowCardinality(String),
    Severity LowCardinality(String),
    Principal String CODEC(ZSTD(1)),
    Source String CODEC(ZSTD(1)),
    Destination String CODEC(ZSTD(1)),
    Resource String CODEC(ZSTD(1)),
    Reason String CODEC(ZSTD(1)),
    Count UInt64,
    EventIds Array(String) CODEC(ZSTD(1)),
    TraceIds Array(String) CODEC(ZSTD(1)),
    Status LowCardinality(String),
    StatusBy String,
    StatusAt DateTime64(9),
    Note String CODEC(ZSTD(1)),
    Details Map(LowCardinality(String), String) CODEC(ZSTD(1)),
    Version UInt64
) ENGINE = ReplacingMergeTree(Version)
PARTITION BY toYYYYMM(FirstSeen)
ORDER BY Id`;
}

/** One JSONEachRow line (times as integer nanoseconds, which DateTime64(9) reads as ticks). */
export function alertRow(a: Alert): string {
  const rest = JSON.stringify({
    Id: a.id,
    Key: a.key,
    Detector: a.detector,
    Severity: a.severity,
    Principal: a.principal,
    Source: a.source,
    Destination: a.destination,
    Resource: a.resource,
    Reason: a.reason,
    Count: a.count,
    EventIds: a.eventIds,
    TraceIds: a.traceIds,
    Status: a.status,
    StatusBy: a.statusBy,
    Note: a.note,
    Details: a.details,
  });
  return `{"FirstSeen":${a.firstSeen},"LastSeen":${a.lastSeen},"StatusAt":${a.statusAt},"Version":${a.version},${rest.slice(1)}`;
}

/** The columns as read back: times and the version as decimal strings. */
export function selectAlertsSql(full: string, where: string): string {
  return `SELECT Id, Key, toString(toUnixTimestamp64Nano(FirstSeen)) AS FirstSeenNs, toString(toUnixTimestamp64Nano(LastSeen)) AS LastSeenNs,
  Detector, Severity, Principal, Source, Destination, Resource, Reason, toString(Count) AS CountS, EventIds, TraceIds, Status, StatusBy,
  toString(toUnixTimestamp64Nano(StatusAt)) AS StatusAtNs, Note, Details, toString(Version) AS VersionS
FROM ${full} FINAL WHERE ${where}`;
}

export function sqlString(v: string): string {
  return `'${v.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** An alert from a stored row or a queued record; throws on anything that is not one (fail closed). */
export function alertFromRow(r: Record<string, unknown>): Alert {
  const str = (k: string): string => {
    const v = r[k];
    if (typeof v !== 'string') throw new Error(`alert row: ${k} is not a string`);
    return v;
  };
  const big = (k: string): bigint => {
    const v = r[k];
    if (typeof v !== 'string' && typeof v !== 'number') throw new Error(`alert row: ${k} is not a number`);
    if (!/^\d+$/.test(String(v))) throw new Error(`alert row: ${k} is not an unsigned integer`);
    return BigInt(v);
  };
  const list = (k: string): string[] => {
    const v = r[k];
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw new Error(`alert row: ${k} is not a list of strings`);
    return v as string[];
  };
  const oneOf = <T extends string>(k: string, values: readonly T[]): T => {
    const v = str(k);
    if (!(values as readonly string[]).includes(v)) throw new Error(`alert row: ${k} ${JSON.stringify(v)} is not one of ${values.join(', ')}`);
    return v as T;
  };
  const details = r.Details;
  if (typeof details !== 'object' || details === null || Array.isArray(details) || Object.values(details).some((x) => typeof x !== 'string')) {
    throw new Error('alert row: Details is not a map of strings');
  }
  return {
    id: str('Id'),
    key: str('Key'),
    firstSeen: big('FirstSeenNs'),
    lastSeen: big('LastSeenNs'),
    detector: oneOf('Detector', DETECTORS),
    severity: oneOf('Severity', SEVERITIES),
    principal: str('Principal'),
    source: str('Source'),
    destination: str('Destination'),
    resource: str('Resource'),
    reason: str('Reason'),
    count: Number(big('CountS')),
    eventIds: list('EventIds'),
    traceIds: list('TraceIds'),
    status: oneOf('Status', STATUSES),
    statusBy: str('StatusBy'),
    statusAt: big('StatusAtNs'),
    note: str('Note'),
    details: { ...(details as Record<string, string>) },
    version: big('VersionS'),
  };
}

/** The alert as a JSON object in the shape alertFromRow reads (the delivery queue's records). */
export function alertRecord(a: Alert): Record<string, unknown> {
  return {
    Id: a.id,
    Key: a.key,
    FirstSeenNs: String(a.firstSeen),
    LastSeenNs: String(a.lastSeen),
    Detector: a.detector,
    Severity: a.severity,
    Principal: a.principal,
    Source: a.source,
    Destination: a.destination,
    Resource: a.resource,
    Reason: a.reason,
    CountS: String(a.count),
    EventIds: a.eventIds,
    TraceIds: a.traceIds,
    Status: a.status,
    StatusBy: a.statusBy,
    StatusAtNs: String(a.statusAt),
    Note: a.note,
    Details: a.details,
    VersionS: String(a.version),
  };
}
