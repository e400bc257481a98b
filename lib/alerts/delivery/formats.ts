/**
 * The three delivery formats of an alert version:
 * - Alertmanager's v2 API (`POST /api/v2/alerts`): an array of
 *   {labels, annotations, startsAt, endsAt?, generatorURL?}. Labels identify
 *   an alert in Alertmanager, so they hold what does not change between
 *   versions (alertname = the detector, severity, principal, destination,
 *   source, alert_id); what changes rides in annotations.
 * - The generic webhook document (`trailhouse.alerts/v1`, README
 *   "Webhook formats"): every field of the alert.
 * - OTLP log records: one record per alert version.
 */
import type { AnyValue, KeyValue, LogsData } from '../../../core/model.ts';
import { newLogRecord } from '../../../core/model.ts';
import type { Alert } from '../alert.ts';

export const WEBHOOK_VERSION = 'trailhouse.alerts/v1';

export function isoOf(ns: bigint): string {
  return new Date(Number(ns / 1_000_000n)).toISOString();
}

/** What a person runs to see the evidence. */
export function traceCommands(a: Alert): string[] {
  return a.traceIds.map((t) => `trailhouse trace ${t}`);
}

export function alertLink(externalUrl: string, a: Alert): string | undefined {
  return externalUrl ? `${externalUrl.replace(/\/+$/, '')}/alerts/${a.id}` : undefined;
}

export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
}

export function alertmanagerAlert(a: Alert, externalUrl: string): AlertmanagerAlert {
  const labels: Record<string, string> = { alertname: a.detector, severity: a.severity, alert_id: a.id, source_system: 'trailhouse' };
  if (a.principal) labels.principal = a.principal;
  if (a.destination) labels.destination = a.destination;
  if (a.source) labels.source = a.source;
  const annotations: Record<string, string> = {
    summary: `${a.detector}: ${a.principal || a.source || a.destination}`,
    reason: a.reason,
    status: a.status,
    count: String(a.count),
    last_seen: isoOf(a.lastSeen),
  };
  if (a.resource) annotations.resource = a.resource;
  const evidence = [...(a.eventIds.length ? [`audit events: ${a.eventIds.join(', ')}`] : []), ...traceCommands(a)];
  if (evidence.length) annotations.evidence = evidence.join('\n');
  if (a.traceIds.length) annotations.trace = `trailhouse trace ${a.traceIds[0]}`;
  if (a.statusBy) annotations.status_by = a.statusBy;
  if (a.note) annotations.note = a.note;
  const out: AlertmanagerAlert = { labels, annotations, startsAt: isoOf(a.firstSeen) };
  // Firing alerts carry no endsAt (Alertmanager sets its resolve_timeout and
  // we send them again while they fire); a resolved one ends when resolved.
  if (a.status === 'resolved') out.endsAt = isoOf(a.statusAt);
  const link = alertLink(externalUrl, a);
  if (link) out.generatorURL = link;
  return out;
}

export interface WebhookAlert {
  id: string;
  version: string;
  status: string;
  detector: string;
  severity: string;
  key: string;
  principal: string;
  source: string;
  destination: string;
  resource: string;
  reason: string;
  count: number;
  first_seen: string;
  last_seen: string;
  first_seen_unix_nano: string;
  last_seen_unix_nano: string;
  event_ids: string[];
  trace_ids: string[];
  trace_commands: string[];
  status_by: string;
  status_at: string | null;
  note: string;
  details: Record<string, string>;
  url?: string;
}

export function webhookAlert(a: Alert, externalUrl: string): WebhookAlert {
  const w: WebhookAlert = {
    id: a.id,
    version: String(a.version),
    status: a.status,
    detector: a.detector,
    severity: a.severity,
    key: a.key,
    principal: a.principal,
    source: a.source,
    destination: a.destination,
    resource: a.resource,
    reason: a.reason,
    count: a.count,
    first_seen: isoOf(a.firstSeen),
    last_seen: isoOf(a.lastSeen),
    first_seen_unix_nano: String(a.firstSeen),
    last_seen_unix_nano: String(a.lastSeen),
    event_ids: a.eventIds,
    trace_ids: a.traceIds,
    trace_commands: traceCommands(a),
    status_by: a.statusBy,
    status_at: a.statusAt ? isoOf(a.statusAt) : null,
    note: a.note,
    details: a.details,
  };
  const link = alertLink(externalUrl, a);
  if (link) w.url = link;
  return w;
}

export function webhookDocument(alerts: readonly Alert[], externalUrl: string): { version: string; sent_at: string; alerts: WebhookAlert[] } {
  return { version: WEBHOOK_VERSION, sent_at: new Date().toISOString(), alerts: alerts.map((a) => webhookAlert(a, externalUrl)) };
}

const SEVERITY_NUMBER: Record<string, number> = { info: 9, warning: 13, critical: 17 };
const HEX32 = /^[0-9a-f]{32}$/;

/** One OTLP log record per alert version, under resource service.name=trailhouse. */
export function otlpLogs(alerts: readonly Alert[], externalUrl: string): LogsData {
  const observed = BigInt(Date.now()) * 1_000_000n;
  const logRecords = alerts.map((a) => {
    const kv = (key: string, value: AnyValue): KeyValue => ({ key, value });
    const attributes: KeyValue[] = [
      kv('alert.id', a.id),
      kv('alert.version', String(a.version)),
      kv('alert.status', a.status),
      kv('alert.detector', a.detector),
      kv('alert.severity', a.severity),
      kv('alert.key', a.key),
      kv('alert.count', BigInt(a.count)),
      kv('alert.first_seen', isoOf(a.firstSeen)),
      kv('alert.last_seen', isoOf(a.lastSeen)),
      kv('alert.principal', a.principal),
      kv('alert.source', a.source),
      kv('alert.destination', a.destination),
      kv('alert.resource', a.resource),
      kv('alert.event_ids', a.eventIds),
      kv('alert.trace_ids', a.traceIds),
    ];
    if (a.statusBy) attributes.push(kv('alert.status_by', a.statusBy), kv('alert.note', a.note));
    for (const [k, v] of Object.entries(a.details)) attributes.push(kv(`alert.details.${k}`, v));
    const link = alertLink(externalUrl, a);
    if (link) attributes.push(kv('alert.url', link));
    const first = a.traceIds[0]?.toLowerCase() ?? '';
    return newLogRecord({
      timeUnixNano: a.statusAt > a.lastSeen ? a.statusAt : a.lastSeen,
      observedTimeUnixNano: observed,
      severityNumber: SEVERITY_NUMBER[a.severity] ?? 0,
      severityText: a.severity.toUpperCase(),
      body: a.reason,
      attributes,
      eventName: 'trailhouse.alert',
      traceId: HEX32.test(first) ? first : '',
    });
  });
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: 'trailhouse' }], droppedAttributesCount: 0 },
        schemaUrl: '',
        scopeLogs: [{ scope: { name: 'trailhouse.alerts', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords }],
      },
    ],
  };
}
