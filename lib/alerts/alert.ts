/**
 * An alert: what the alerts extension makes of detectors' signals
 * (lib/detect/signal.ts). One alert per key while it is not resolved and
 * was last seen within the repeat window; repeats add to its count and
 * evidence instead of making new alerts. Every change is a new version of
 * the alert (a row of `audit_alerts`, ReplacingMergeTree by Version), so an
 * update is an insert and the table keeps only the newest once merged.
 */
import { randomBytes } from 'node:crypto';
import { MAX_EVIDENCE, SEVERITIES, type AlertSignal, type DetectorName, type Severity } from '../detect/signal.ts';

export const STATUSES = ['open', 'acknowledged', 'resolved'] as const;
export type AlertStatus = (typeof STATUSES)[number];

/** An alert id: 16 lowercase hex digits (random), short enough to type after `trailhouse alerts ack`. */
export const ALERT_ID = /^[0-9a-f]{16}$/;

export interface Alert {
  id: string;
  /** The signal key repeats are matched by. */
  key: string;
  /** Nanoseconds since the epoch. */
  firstSeen: bigint;
  lastSeen: bigint;
  detector: DetectorName;
  severity: Severity;
  principal: string;
  source: string;
  destination: string;
  resource: string;
  /** The newest signal's reason. */
  reason: string;
  count: number;
  eventIds: string[];
  traceIds: string[];
  status: AlertStatus;
  /** Who changed the status last ('' while open and never triaged). */
  statusBy: string;
  statusAt: bigint;
  note: string;
  details: Record<string, string>;
  /** Increases with every change (microseconds since the epoch, or one more than the last). */
  version: bigint;
}

export function newAlertId(): string {
  return randomBytes(8).toString('hex');
}

/** A version greater than `prev`: the clock in microseconds, or prev + 1 when the clock is behind. */
export function nextVersion(prev: bigint): bigint {
  const now = BigInt(Date.now()) * 1000n;
  return now > prev ? now : prev + 1n;
}

export function alertFromSignal(s: AlertSignal, id: string = newAlertId()): Alert {
  return {
    id,
    key: s.key,
    firstSeen: s.time,
    lastSeen: s.time,
    detector: s.detector,
    severity: s.severity,
    principal: s.principal,
    source: s.source,
    destination: s.destination,
    resource: s.resource,
    reason: s.reason,
    count: Math.max(1, s.count),
    eventIds: mergeIds([], s.evidence.eventIds),
    traceIds: mergeIds([], s.evidence.traceIds),
    status: 'open',
    statusBy: '',
    statusAt: 0n,
    note: '',
    details: { ...s.details },
    version: nextVersion(0n),
  };
}

/** The alert with one more signal of its key: a new version (the old object is not changed). */
export function withSignal(a: Alert, s: AlertSignal): Alert {
  return {
    ...a,
    lastSeen: s.time > a.lastSeen ? s.time : a.lastSeen,
    firstSeen: s.time < a.firstSeen ? s.time : a.firstSeen,
    severity: SEVERITIES.indexOf(s.severity) > SEVERITIES.indexOf(a.severity) ? s.severity : a.severity,
    reason: s.reason || a.reason,
    count: a.count + Math.max(1, s.count),
    eventIds: mergeIds(a.eventIds, s.evidence.eventIds),
    traceIds: mergeIds(a.traceIds, s.evidence.traceIds),
    details: { ...a.details, ...s.details },
    version: nextVersion(a.version),
  };
}

/** The alert with a new status set by `by`: a new version. */
export function withStatus(a: Alert, status: AlertStatus, by: string, note: string, at: bigint): Alert {
  return { ...a, status, statusBy: by, statusAt: at, note, version: nextVersion(a.version) };
}

/**
 * The first MAX_EVIDENCE distinct ids of both lists, the kept ones first:
 * the evidence of when it started stays, later repeats fill what is left.
 */
export function mergeIds(kept: readonly string[], more: readonly string[]): string[] {
  const out = kept.slice(0, MAX_EVIDENCE);
  for (const id of more) {
    if (out.length >= MAX_EVIDENCE) break;
    if (id && !out.includes(id)) out.push(id);
  }
  return out;
}
