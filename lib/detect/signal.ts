/**
 * What a detector hands to the alerts component: one observation that
 * something deserves an alert. Detectors (processors/detect) decide *that*
 * something happened; the alerts component (extensions/alerts) decides what
 * it becomes: a new alert, or one more count on the open alert with the same
 * key, stored in `audit_alerts` and delivered to the configured targets.
 */

export const DETECTORS = [
  'first_seen_access',
  'deny_surge',
  'auth_failure_burst',
  'config_change',
  'sensitive_first_seen',
  'receiver_auth_bruteforce',
  'source_silent',
] as const;
export type DetectorName = (typeof DETECTORS)[number];

export const SEVERITIES = ['info', 'warning', 'critical'] as const;
export type Severity = (typeof SEVERITIES)[number];

/** At most this many event ids and trace ids ride on one signal (and on one stored alert). */
export const MAX_EVIDENCE = 20;

export interface AlertEvidence {
  /** Audit event ids (the `event_id` detail of an `audit_events` row). */
  eventIds: string[];
  traceIds: string[];
}

export interface AlertSignal {
  detector: DetectorName;
  severity: Severity;
  /**
   * Signals with the same key update one alert while it is open and within
   * the repeat window; e.g. `deny_surge|principal|spiffe://cluster.local/ns/a/sa/b`.
   */
  key: string;
  /** Nanoseconds since the epoch: the time of the record that triggered it. */
  time: bigint;
  principal: string;
  source: string;
  destination: string;
  resource: string;
  /** One sentence a person reads: what was seen, against which threshold or baseline. */
  reason: string;
  /** Records behind this signal (added to the alert's count). */
  count: number;
  evidence: AlertEvidence;
  /** Other facts as strings: window, baseline, threshold, ratio, kind, ... */
  details: Record<string, string>;
}

/** Takes signals; never blocks the caller and never throws (failures are the sink's to count and retry). */
export interface AlertSink {
  raise(signal: AlertSignal): void;
}
