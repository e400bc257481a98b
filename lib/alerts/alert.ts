/**
 * An alert: what the alerts extension makes of detectors' signals
 * (lib/detect/signal.ts). One alert per key while it is not resolved and
 * was last seen within the repeat window; repeats add to its count and
 * evidence instead of making new alerts. Every change is a new version of
 * the alert (a row of `audit_alerts`, ReplacingMergeTree by Version), so an
 * update is an insert and the table keeps only the newest once merged.
 */
import { randomBytes } from 'node:crypto';
import { DETECTORS, MAX_EVIDENCE, SEVERITIES, type AlertSignal, type DetectorName, type Severity } from '../detect/signal.ts';

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
  // Microseconds fit a double exactly (below 2^53 until the year 2255): one BigInt, no BigInt arithmetic.
  const now = BigInt(Date.now() * 1000);
  return now > prev ? now : prev + 1n;
}

/** Longest text kept of a field that comes from records (a principal, a path), and of the reason. */
export const MAX_FIELD = 1024;
export const MAX_REASON = 4096;
/** Longest evidence id kept (event and trace ids are hex; anything longer is not one). */
const MAX_ID = 128;

const DETECTOR_SET: ReadonlySet<string> = new Set(DETECTORS);
const SEVERITY_SET: ReadonlySet<string> = new Set(SEVERITIES);

/** Why a signal cannot become an alert (fail closed), or undefined. */
export function signalProblem(s: AlertSignal): string | undefined {
  if (typeof s !== 'object' || s === null) return 'not a signal';
  if (!DETECTOR_SET.has(s.detector)) return `unknown detector ${JSON.stringify(String(s.detector)).slice(0, 80)}`;
  if (!SEVERITY_SET.has(s.severity)) return `unknown severity ${JSON.stringify(String(s.severity)).slice(0, 80)}`;
  if (typeof s.key !== 'string' || !s.key) return 'no key';
  if (typeof s.time !== 'bigint' || s.time < 0n) return 'time is not nanoseconds';
  if (!Number.isFinite(s.count) || s.count < 0) return 'count is not a number of records';
  if (!s.evidence || !Array.isArray(s.evidence.eventIds) || !Array.isArray(s.evidence.traceIds)) return 'no evidence lists';
  return undefined;
}

const cut = (v: string, n: number): string => (typeof v !== 'string' ? '' : v.length > n ? `${v.slice(0, n)}…` : v);

export function alertFromSignal(s: AlertSignal, id: string = newAlertId()): Alert {
  return {
    id,
    key: cut(s.key, MAX_FIELD),
    firstSeen: s.time,
    lastSeen: s.time,
    detector: s.detector,
    severity: s.severity,
    principal: cut(s.principal, MAX_FIELD),
    source: cut(s.source, MAX_FIELD),
    destination: cut(s.destination, MAX_FIELD),
    resource: cut(s.resource, MAX_FIELD),
    reason: cut(s.reason, MAX_REASON),
    count: Math.max(1, s.count),
    eventIds: mergeIds([], s.evidence.eventIds),
    traceIds: mergeIds([], s.evidence.traceIds),
    status: 'open',
    statusBy: '',
    statusAt: 0n,
    note: '',
    details: boundedDetails({}, s.details),
    version: nextVersion(0n),
  };
}

/** The alert with one more signal of its key: a new version (the old object is not changed). */
export function withSignal(a: Alert, s: AlertSignal): Alert {
  // Built field by field (one shape for every version), not by spreading: repeats are the hot path.
  return {
    id: a.id,
    key: a.key,
    firstSeen: s.time < a.firstSeen ? s.time : a.firstSeen,
    lastSeen: s.time > a.lastSeen ? s.time : a.lastSeen,
    detector: a.detector,
    severity: s.severity === a.severity || SEVERITIES.indexOf(s.severity) < SEVERITIES.indexOf(a.severity) ? a.severity : s.severity,
    principal: a.principal,
    source: a.source,
    destination: a.destination,
    resource: a.resource,
    reason: s.reason ? cut(s.reason, MAX_REASON) : a.reason,
    count: a.count + Math.max(1, s.count),
    eventIds: mergeIds(a.eventIds, s.evidence.eventIds),
    traceIds: mergeIds(a.traceIds, s.evidence.traceIds),
    status: a.status,
    statusBy: a.statusBy,
    statusAt: a.statusAt,
    note: a.note,
    details: hasKeys(s.details) ? boundedDetails(a.details, s.details) : a.details,
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
  // Versions never change their arrays, so a full or unchanged list is shared, not copied:
  // a surge of repeats costs no evidence copies once the evidence is full.
  if (kept.length >= MAX_EVIDENCE || more.length === 0) return kept.length > MAX_EVIDENCE ? kept.slice(0, MAX_EVIDENCE) : (kept as string[]);
  const out = kept.slice();
  for (const id of more) {
    if (out.length >= MAX_EVIDENCE) break;
    if (typeof id === 'string' && id && id.length <= MAX_ID && !out.includes(id)) out.push(id);
  }
  return out;
}

function hasKeys(o: Record<string, string> | undefined): boolean {
  for (const _ in o) return true;
  return false;
}

/** At most 32 details, names and values cut to MAX_FIELD: they come from detectors reading records. */
function boundedDetails(kept: Record<string, string>, more: Record<string, string> | undefined): Record<string, string> {
  const out: Record<string, string> = { ...kept };
  let n = Object.keys(out).length;
  for (const k in more) {
    const v = more[k];
    if (typeof v !== 'string') continue;
    const name = cut(k, 128);
    if (!(name in out)) {
      if (n >= 32) continue;
      n++;
    }
    out[name] = cut(v, MAX_FIELD);
  }
  return out;
}
