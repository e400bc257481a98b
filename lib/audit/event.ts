/** One normalized audit event: a row of the `audit_events` table. */

/** data_access: a query of the store itself (trailhouse's own access log, core/security-events.ts). */
export const CATEGORIES = ['authorization', 'authentication', 'configuration', 'sensitive_access', 'data_access'] as const;
export type Category = (typeof CATEGORIES)[number];

/**
 * allowed / denied: an access decision; failure: an authentication that did
 * not succeed, or a change the API server rejected for another reason;
 * success: a change that was applied; rate_limited: refused by a rate limit;
 * failed: a sensitive request that errored without a decision.
 */
export const OUTCOMES = ['allowed', 'denied', 'failure', 'success', 'rate_limited', 'failed'] as const;
export type Outcome = (typeof OUTCOMES)[number];

export interface AuditEvent {
  /** Nanoseconds since the epoch. */
  time: bigint;
  category: Category;
  action: string;
  outcome: Outcome;
  /** SPIFFE id from the peer certificate's URI SAN, an end-user id, or the Kubernetes user. */
  principal: string;
  /** Who connected: the downstream address (ip:port) or the API client's IP. */
  source: string;
  /** What was called: the :authority / SNI / upstream host, or `kube-apiserver`. */
  destination: string;
  /** The path (no query string), or the Kubernetes object `resource.group/namespace/name`. */
  resource: string;
  /** The policy that decided, when known (RBAC policy id, RoleBinding, ...). */
  policy: string;
  traceId: string;
  spanId: string;
  /** Everything else worth keeping, as strings (method, status_code, reason, change, ...). */
  details: Record<string, string>;
}
