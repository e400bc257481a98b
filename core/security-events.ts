/**
 * The store audits access to itself: every query of the store and every
 * refused authentication (on a receiver or a read surface) is an event here.
 * Surfaces emit; whoever writes `audit_events` subscribes and stores them as
 * audit rows (category `data_access` or `authentication`), so "who looked at
 * the evidence, and who tried to get in" is answered by the evidence store.
 *
 * Process-wide on purpose: a receiver and the query interface do not know
 * which component writes audit rows, and events raised before a writer
 * subscribes are kept (bounded) and handed to the first subscriber.
 *
 * An event never carries a presented credential: `subject` is the claimed or
 * authenticated user name only, and `reason` is ours, not the client's text.
 */

/** configuration: a change the process made to the store itself (a retention policy applied: action `retention.update`). */
export type SecurityEventCategory = 'data_access' | 'authentication' | 'configuration';

export interface SecurityEvent {
  /** Nanoseconds since the epoch. */
  time: bigint;
  category: SecurityEventCategory;
  /** What was attempted: `query`, `login`, `otlp/http export`, ... */
  action: string;
  /** `allowed` / `denied` for a query; `failure` / `rate_limited` for an authentication; `success` for an applied configuration change. */
  outcome: 'allowed' | 'denied' | 'failure' | 'rate_limited' | 'failed' | 'success';
  /** The (claimed) user or authenticated subject; '' when none was presented. */
  subject: string;
  /** The client's address (ip or ip:port). */
  source: string;
  /** The surface: `query_interface`, `receiver/otlp`, `receiver/zipkin`, ... */
  surface: string;
  /** Why it was refused (ours, never the credential), or '' when allowed. */
  reason: string;
  /** Anything else as strings: sql, result_rows, result_bytes, duration_ms, status, role, ... */
  details: Record<string, string>;
}

type Listener = (e: SecurityEvent) => void;

const listeners = new Set<Listener>();
/** Observers (watchSecurityEvents): see every event as raised, take no early ones, and do not store them. */
const watchers = new Set<Listener>();
const early: SecurityEvent[] = [];
const EARLY_MAX = 10_000;
/** Also bounded by size: a query's SQL rides in its event. */
const EARLY_MAX_BYTES = 16 * 1024 * 1024;
let earlyBytes = 0;
let droppedEarly = 0;

/** Roughly what an event holds in memory (its strings), for the bounds of buffers. */
export function securityEventSize(e: SecurityEvent): number {
  let n = 200 + e.action.length + e.subject.length + e.source.length + e.surface.length + e.reason.length;
  for (const k in e.details) n += k.length + (e.details[k]?.length ?? 0);
  return n;
}

/** Raise an event. Never throws, never blocks the caller. */
export function emitSecurityEvent(e: SecurityEvent): void {
  for (const w of watchers) {
    try {
      w(e);
    } catch {
      // A failing observer must not fail the request that raised the event.
    }
  }
  if (listeners.size === 0) {
    const size = securityEventSize(e);
    if (early.length < EARLY_MAX && earlyBytes + size <= EARLY_MAX_BYTES) {
      early.push(e);
      earlyBytes += size;
    } else droppedEarly++;
    return;
  }
  for (const l of listeners) {
    try {
      l(e);
    } catch {
      // A failing writer must not fail the request that raised the event.
    }
  }
}

/** Subscribe; the first subscriber also receives the events raised before it. Returns the unsubscribe. */
export function onSecurityEvent(l: Listener): () => void {
  listeners.add(l);
  if (early.length) {
    const pending = early.splice(0);
    earlyBytes = 0;
    for (const e of pending) {
      try {
        l(e);
      } catch {
        // as above
      }
    }
  }
  return () => listeners.delete(l);
}

/**
 * Observe events as they are raised (e.g. a detector counting refused
 * logins), beside the writer: an observer is not a subscriber, so it neither
 * takes the events kept for the first writer nor stops them being kept.
 * Returns the unsubscribe.
 */
export function watchSecurityEvents(l: Listener): () => void {
  watchers.add(l);
  return () => watchers.delete(l);
}

/** Events that could not be kept because nobody subscribed and the buffer was full. */
export function droppedSecurityEvents(): number {
  return droppedEarly;
}

export function nowNanos(): bigint {
  return BigInt(Date.now()) * 1_000_000n;
}
