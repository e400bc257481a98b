/**
 * The evidence report's sections and the SQL of each figure. Each section
 * names the Trust Services Criteria it supports; each figure is independent,
 * so a user who can read only the audit tables (the `auditor` role) gets
 * those figures and "not available" for the rest.
 */
import { LEDGER_PERIOD_SQL, POLICY_SQL } from '../retention/queries.ts';
import { IN_PERIOD, runFigure, type Figure, type ReportQuery } from './figure.ts';

export interface Section {
  id: string;
  title: string;
  /** Trust Services Criteria (2017, revised points of focus 2022) this section supports. */
  criteria: string[];
  /** What the section shows, in a sentence. */
  about: string;
  figures: Figure[];
  /** Section-level facts not from SQL (e.g. the integrity verdict). */
  notes: string[];
}

export interface Period {
  fromNs: bigint;
  toNs: bigint;
  /** Gaps longer than this many minutes are listed. */
  gapMinutes: number;
}

/** The three stores of records, as the report names them. */
export const SIGNALS = [
  { signal: 'logs', table: 'otel_logs' },
  { signal: 'spans', table: 'otel_traces' },
  { signal: 'audit events', table: 'audit_events' },
] as const;

const TOP = 20;
const LIST = 1000;

function params(p: Period, extra: Record<string, string> = {}): Record<string, string> {
  return { from: String(p.fromNs), to: String(p.toNs), ...extra };
}

/** Per service: first and last record, and the record count. */
const servicesSql = (table: string) => `SELECT ServiceName AS Service, toString(min(Timestamp), 'UTC') AS FirstSeen, toString(max(Timestamp), 'UTC') AS LastSeen,
  toString(count()) AS Records FROM ${table} WHERE ${IN_PERIOD} GROUP BY Service ORDER BY Service`;

/**
 * Silences: consecutive minutes with records of a service, more than {gap}
 * minutes apart (the window function pairs each minute with the one before).
 */
const gapsSql = (table: string) => `SELECT Service, toString(Previous, 'UTC') AS LastBefore, toString(Minute, 'UTC') AS NextSeen,
  toString(dateDiff('minute', Previous, Minute) - 1) AS SilentMinutes FROM (
    SELECT Service, Minute,
      lagInFrame(Minute) OVER (PARTITION BY Service ORDER BY Minute ASC ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS Previous,
      row_number() OVER (PARTITION BY Service ORDER BY Minute ASC) AS N
    FROM (SELECT ServiceName AS Service, toStartOfMinute(Timestamp) AS Minute FROM ${table} WHERE ${IN_PERIOD} GROUP BY Service, Minute)
  ) WHERE N > 1 AND dateDiff('minute', Previous, Minute) - 1 > {gap:UInt32} ORDER BY Service, Minute`;

const STATS_MISSING = 'not recorded: this store has no pipeline_stats table (a pipeline writes it from this version on)';

export async function sourcesSection(q: ReportQuery, p: Period): Promise<Section> {
  const figures: Figure[] = [];
  for (const s of SIGNALS) {
    figures.push(await runFigure(q, { id: `services.${s.table}`, title: `Services seen in ${s.signal} (${s.table})`, sql: servicesSql(s.table), params: params(p) }));
  }
  for (const s of SIGNALS) {
    figures.push(
      await runFigure(q, {
        id: `gaps.${s.table}`,
        title: `Gaps longer than ${p.gapMinutes} min in ${s.signal}`,
        sql: gapsSql(s.table),
        params: params(p, { gap: String(p.gapMinutes) }),
        note: 'SilentMinutes: whole minutes without a record between LastBefore and NextSeen (per-minute buckets).',
      }),
    );
  }
  figures.push(
    await runFigure(
      q,
      {
        id: 'receivers',
        title: 'Receivers seen (records accepted per receiver)',
        sql: `SELECT Component, Signal, toString(min(Minute), 'UTC') AS FirstSeen, toString(max(Minute), 'UTC') AS LastSeen, toString(sum(Accepted)) AS Accepted
  FROM pipeline_stats WHERE Minute >= fromUnixTimestamp64Nano({from:Int64}) AND Minute < fromUnixTimestamp64Nano({to:Int64}) AND startsWith(Component, 'receiver/')
  GROUP BY Component, Signal ORDER BY Component, Signal`,
        params: params(p),
      },
      STATS_MISSING,
    ),
  );
  return { id: 'sources', title: 'Sources inventory', criteria: ['A1.1', 'A1.2'], about: 'Which services sent records in the period, first and last seen, and where they fell silent.', figures, notes: [] };
}

export async function volumesSection(q: ReportQuery, p: Period): Promise<Section> {
  const figures: Figure[] = [];
  for (const s of SIGNALS) {
    figures.push(
      await runFigure(q, {
        id: `volume.${s.table}`,
        title: `${s.signal[0]!.toUpperCase()}${s.signal.slice(1)} per day and service`,
        sql: `SELECT toString(toDate(Timestamp, 'UTC')) AS Day, ServiceName AS Service, toString(count()) AS Records FROM ${s.table} WHERE ${IN_PERIOD} GROUP BY Day, Service ORDER BY Day, Service`,
        params: params(p),
      }),
    );
  }
  figures.push(
    await runFigure(
      q,
      {
        id: 'pipeline.counters',
        title: 'Refusals and drops of the pipeline, per day and component',
        sql: `SELECT toString(toDate(Minute, 'UTC')) AS Day, Component, Signal, toString(sum(Accepted)) AS Accepted, toString(sum(Refused)) AS Refused, toString(sum(Dropped)) AS Dropped
  FROM pipeline_stats WHERE Minute >= fromUnixTimestamp64Nano({from:Int64}) AND Minute < fromUnixTimestamp64Nano({to:Int64})
  GROUP BY Day, Component, Signal ORDER BY Day, Component, Signal`,
        params: params(p),
      },
      STATS_MISSING,
    ),
  );
  figures.push(
    await runFigure(q, {
      id: 'pipeline.restarts',
      title: 'Starts and stops of the pipeline',
      sql: `SELECT toString(Timestamp, 'UTC') AS Time, Action, Details['version'] AS Version, Details['config_sha256'] AS ConfigSha256, Source AS Host
  FROM audit_events WHERE ${IN_PERIOD} AND Category = 'configuration' AND Action IN ('pipeline.start', 'pipeline.stop') ORDER BY Timestamp LIMIT ${LIST}`,
      params: params(p),
      note: 'A start without a stop before it is an unclean stop (killed or crashed).',
    }),
  );
  return { id: 'volumes', title: 'Volumes, refusals, drops and restarts', criteria: ['A1.1', 'CC7.2'], about: 'Records stored per day, per signal and service; what the pipeline itself refused or dropped, and when it started and stopped.', figures, notes: [] };
}

export async function auditSection(q: ReportQuery, p: Period): Promise<Section> {
  const figures = [
    await runFigure(q, {
      id: 'audit.daily',
      title: 'Audit events per day, category and outcome',
      sql: `SELECT toString(toDate(Timestamp, 'UTC')) AS Day, Category, Outcome, toString(count()) AS Events FROM audit_events WHERE ${IN_PERIOD} GROUP BY Day, Category, Outcome ORDER BY Day, Category, Outcome`,
      params: params(p),
    }),
    await runFigure(q, {
      id: 'audit.denied.principals',
      title: `Top ${TOP} denied principals`,
      sql: `SELECT Principal, toString(count()) AS Denied, toString(uniqExact(Destination)) AS Destinations FROM audit_events WHERE ${IN_PERIOD} AND Outcome = 'denied' GROUP BY Principal ORDER BY count() DESC, Principal LIMIT ${TOP}`,
      params: params(p),
    }),
    await runFigure(q, {
      id: 'audit.denied.destinations',
      title: `Top ${TOP} denied destinations`,
      sql: `SELECT Destination, toString(count()) AS Denied, toString(uniqExact(Principal)) AS Principals FROM audit_events WHERE ${IN_PERIOD} AND Outcome = 'denied' GROUP BY Destination ORDER BY count() DESC, Destination LIMIT ${TOP}`,
      params: params(p),
    }),
  ];
  return { id: 'access', title: 'Access decisions', criteria: ['CC6.1', 'CC6.6'], about: 'Audit events by category and outcome over the period; who was denied most, and where.', figures, notes: [] };
}

export async function changesSection(q: ReportQuery, p: Period): Promise<Section> {
  const figures = [
    await runFigure(q, {
      id: 'changes',
      title: 'Configuration changes',
      sql: `SELECT toString(Timestamp, 'UTC') AS Time, Principal, Action, Outcome, Resource, Policy, Destination, Details FROM audit_events
  WHERE ${IN_PERIOD} AND Category = 'configuration' ORDER BY Timestamp LIMIT ${LIST}`,
      params: params(p),
      note: `At most ${LIST} changes, oldest first.`,
    }),
  ];
  return { id: 'changes', title: 'Mesh configuration change log', criteria: ['CC8.1', 'CC7.1'], about: 'Who changed which resource or policy, when, and the change (audit events of category configuration).', figures, notes: [] };
}

const ALERTS_MISSING = 'no detection configured: this store has no audit_alerts table';
const ALERT_WINDOW = 'LastSeen >= fromUnixTimestamp64Nano({from:Int64}) AND FirstSeen < fromUnixTimestamp64Nano({to:Int64})';

export async function alertsSection(q: ReportQuery, p: Period): Promise<Section> {
  const figures = [
    await runFigure(
      q,
      {
        id: 'alerts.summary',
        title: 'Alerts by severity and status',
        sql: `SELECT Severity, Status, toString(count()) AS Alerts FROM audit_alerts FINAL WHERE ${ALERT_WINDOW} GROUP BY Severity, Status ORDER BY Severity, Status`,
        params: params(p),
      },
      ALERTS_MISSING,
    ),
    await runFigure(
      q,
      {
        id: 'alerts',
        title: 'Alerts and their triage',
        // Output names differ from the columns: an alias named like a column would shadow it in WHERE.
        sql: `SELECT Id, toString(FirstSeen, 'UTC') AS First, toString(LastSeen, 'UTC') AS Last, Detector, Severity,
  Principal, Destination, Resource, Reason, toString(Count) AS Records, Status, StatusBy, toString(StatusAt, 'UTC') AS StatusTime, Note
  FROM audit_alerts FINAL WHERE ${ALERT_WINDOW} ORDER BY FirstSeen, Id LIMIT ${LIST}`,
        params: params(p),
        note: `Alerts open at any time in the period, at most ${LIST}, with their latest status.`,
      },
      ALERTS_MISSING,
    ),
  ];
  return { id: 'alerts', title: 'Alerts and triage', criteria: ['CC7.2', 'CC7.3'], about: 'What detection raised in the period and how each alert was triaged.', figures, notes: [] };
}

export async function retentionSection(q: ReportQuery, p: Period): Promise<Section> {
  const figures = [
    await runFigure(q, { id: 'retention.rules', title: 'Retention rules in force', sql: POLICY_SQL, params: {} }, 'no retention policy has been applied to this store (retention_policy does not exist)'),
  ];
  for (const s of SIGNALS) {
    figures.push(
      await runFigure(q, {
        id: `retention.oldest.${s.table}`,
        title: `Oldest ${s.signal} held`,
        sql: `SELECT toString(min(Timestamp), 'UTC') AS Oldest, toString(count()) AS Rows FROM ${s.table}`,
        params: {},
        note: 'Over the whole table at the time of the report, not the period.',
      }),
    );
  }
  figures.push(
    await runFigure(q, { id: 'retention.ledger', title: 'Deletions performed (counted in the period)', sql: LEDGER_PERIOD_SQL, params: params(p) }, 'no deletion ledger in this store (retention_ledger does not exist)'),
  );
  return { id: 'retention', title: 'Retention', criteria: ['C1.2'], about: 'The retention rules in force per table, the oldest rows held, and the deletions the rules performed.', figures, notes: [] };
}

export async function accessReviewSection(q: ReportQuery, p: Period): Promise<Section> {
  const figures = [
    await runFigure(q, {
      id: 'review.queries',
      title: 'Who queried the store',
      sql: `SELECT Principal AS Subject, Destination AS Surface, Policy AS Role, toString(count()) AS Queries, toString(countIf(Outcome = 'denied')) AS Refused,
  toString(min(Timestamp), 'UTC') AS First, toString(max(Timestamp), 'UTC') AS Last FROM audit_events
  WHERE ${IN_PERIOD} AND Category = 'data_access' GROUP BY Subject, Surface, Role ORDER BY count() DESC, Subject LIMIT ${LIST}`,
      params: params(p),
    }),
    await runFigure(q, {
      id: 'review.failed_logins',
      title: 'Failed logins by source and surface',
      sql: `SELECT Source, Destination AS Surface, Principal AS Subject, Outcome, toString(count()) AS Attempts, toString(min(Timestamp), 'UTC') AS First, toString(max(Timestamp), 'UTC') AS Last
  FROM audit_events WHERE ${IN_PERIOD} AND Category = 'authentication' AND Outcome IN ('failure', 'rate_limited')
  GROUP BY Source, Surface, Subject, Outcome ORDER BY count() DESC, Source LIMIT ${LIST}`,
      params: params(p),
    }),
  ];
  return { id: 'review', title: 'Access review', criteria: ['CC6.1', 'CC6.2'], about: 'Who read the evidence store (data_access events), and who failed to log in where.', figures, notes: [] };
}
