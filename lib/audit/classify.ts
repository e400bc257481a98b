/**
 * Classification of log records into audit events: pure, no I/O.
 *
 * A record is read either as a Kubernetes audit event (body) or as an access
 * log entry (attributes and/or Istio's text line in the body), and gives zero
 * or more events; a 403 on /admin, for instance, is both an `authorization`
 * denial and a `sensitive_access`.
 *
 * A denial is recorded where it was decided: a 401/403 that a client-side
 * sidecar only relays (`via_upstream` on an `outbound|` cluster) is not an
 * event, because the server's sidecar logged the decision itself.
 */
import type { KeyValue, LogRecord } from '../../core/model.ts';
import { getAttr } from '../../core/model.ts';
import type { AuditRules } from './rules.ts';
import type { AuditEvent, Category, Outcome } from './event.ts';
import { readAccess, resolveAttributeMap, str, type AccessFields, type AccessView, type SourceFormat } from '../mesh/fields.ts';
import type { AttributeMap } from '../mesh/attributes.ts';
import { globToRegExp, matchAny } from './glob.ts';
import { asK8sAudit, classifyK8s, rfc3339ToNanos, type K8sRules } from './k8s.ts';

export interface CompiledRules {
  /** All sensitive-path globs as one alternation: one test per record. */
  sensitive: RegExp[];
  requirePeer: RegExp[];
  rateLimits: 'all' | 'sensitive';
  httpStatus: boolean;
  attributes: AttributeMap;
  k8s: K8sRules;
  /**
   * Rows carry their body's hash (AuditRow.bodyHash), computed while the
   * event is fresh: set when the audit processor writes through its Merkle
   * log, which would otherwise read every event again, long after.
   */
  hashBodies?: boolean;
}

export function compileRules(r: AuditRules): CompiledRules {
  return {
    sensitive: r.sensitive_paths.length ? [new RegExp(r.sensitive_paths.map((g) => `(?:${globToRegExp(g).source})`).join('|'))] : [],
    requirePeer: r.require_peer_identity.map(globToRegExp),
    rateLimits: r.rate_limits,
    httpStatus: r.http_status,
    attributes: resolveAttributeMap(r.attributes),
    k8s: {
      apiGroups: r.kubernetes.api_groups.map(globToRegExp),
      decisions: r.kubernetes.decisions,
      maxChangeBytes: r.kubernetes.max_change_bytes,
    },
  };
}

const RBAC_PREFIX = 'rbac_access_denied_matched_policy[';

/** The policy id inside `rbac_access_denied_matched_policy[...]` ('' for `[none]`), or undefined. */
export function rbacDeniedPolicy(details: string | undefined): string | undefined {
  if (!details) return undefined;
  const i = details.indexOf(RBAC_PREFIX);
  if (i < 0) return details.startsWith('rbac_access_denied') ? '' : undefined;
  const start = i + RBAC_PREFIX.length;
  // The id itself holds brackets (Istio: ns[foo]-policy[bar]-rule[0]): match them.
  let depth = 1;
  for (let j = start; j < details.length; j++) {
    const c = details[j];
    if (c === '[') depth++;
    else if (c === ']' && --depth === 0) {
      const id = details.slice(start, j);
      return id === 'none' ? '' : id;
    }
  }
  return details.slice(start);
}

/** Istio's RBAC policy id `ns[NS]-policy[NAME]-rule[N]` split into its parts. */
export function istioPolicyParts(id: string): { namespace: string; name: string; rule: string } | undefined {
  const m = /^ns\[([^\]]*)\]-policy\[([^\]]*)\]-rule\[(\d+)\]$/.exec(id);
  return m ? { namespace: m[1]!, name: m[2]!, rule: m[3]! } : undefined;
}

const TLS_FAILURE = /TLS|SSL|CERTIFICATE|handshake|x509|certificate/i;
const TLS_VERIFY = /VERIFY|verif|CERTIFICATE_UNKNOWN|BAD_CERTIFICATE|UNKNOWN_CA|SAN|x509|expired/i;

function principalOf(f: AccessFields): string {
  const san = f.peer_uri_san;
  if (san) {
    // Several URI SANs come comma-separated; the SPIFFE one names the workload.
    const spiffe = san.split(',').map((x) => x.trim()).find((x) => x.startsWith('spiffe://'));
    return spiffe ?? san;
  }
  return f.user ?? '';
}

function sourceOf(f: AccessFields): string {
  const a = f.client_address ?? '';
  if (!a || !f.client_port || /:\d+$/.test(a)) return a;
  return a.includes(':') ? `[${a}]:${f.client_port}` : `${a}:${f.client_port}`;
}

const NO_FLAGS: ReadonlySet<string> = new Set();

function flagSet(flags: string | undefined): ReadonlySet<string> {
  return flags && flags !== '-' ? new Set(flags.split(/[,|]/)) : NO_FLAGS;
}

/**
 * The events of one record. `access` reads it as an access-log entry (by
 * default from its attributes; a record read from the wire passes its own
 * reader, and its `attributes` are not looked at).
 */
export function classifyRecord(
  record: LogRecord,
  resourceAttrs: readonly KeyValue[],
  rules: CompiledRules,
  access: (record: LogRecord) => AccessView | undefined = (r) => readAccess(r, rules.attributes),
): AuditEvent[] {
  const recordTime = record.timeUnixNano || record.observedTimeUnixNano;
  const k8s = asK8sAudit(record.body);
  if (k8s) return classifyK8s(k8s, rules.k8s, recordTime, str(getAttr(resourceAttrs, 'k8s.cluster.name')));
  const view = access(record);
  if (!view) return [];
  const time = recordTime || rfc3339ToNanos(view.startTime);
  return classifyAccess(view.fields, view.format, time, record, str(getAttr(resourceAttrs, 'service.name')), rules);
}

function classifyAccess(f: AccessFields, format: SourceFormat, time: bigint, record: LogRecord, service: string, rules: CompiledRules): AuditEvent[] {
  const out: AuditEvent[] = [];
  const status = f.status_code ? Number(f.status_code) : 0;
  const flags = flagSet(f.response_flags);
  const rcd = f.response_code_details ?? '';
  const ctd = f.connection_termination_details ?? '';
  const rawPath = f.path ?? '';
  const q = rawPath.indexOf('?');
  const path = q < 0 ? rawPath : rawPath.slice(0, q);
  // Whether the request carried an identity; the principal itself is made when an event needs it.
  const principal = !!(f.peer_uri_san || f.user);
  const destination = f.authority || f.requested_server_name || f.upstream_host || f.downstream_local_address || '';
  const relayed = rcd === 'via_upstream' && (f.upstream_cluster ?? '').startsWith('outbound|');

  const ev = new Emitter(out, f, format, status, rcd, ctd, service, time, destination, path, record);

  // ---- authorization
  let decided: Outcome | undefined;
  const rbac = rbacDeniedPolicy(rcd) ?? rbacDeniedPolicy(ctd);
  if (rbac !== undefined) {
    const parts = istioPolicyParts(rbac);
    const extra: Record<string, string> = parts ? { policy_namespace: parts.namespace, policy_name: parts.name, policy_rule: parts.rule } : {};
    if (rbac === '') extra.reason = 'no_policy_matched';
    ev.emit('authorization', 'rbac', 'denied', rbac, extra);
    decided = 'denied';
  } else if (flags.has('UAEX') || rcd.startsWith('ext_authz')) {
    ev.emit('authorization', 'ext_authz', 'denied', '', rcd ? { reason: rcd } : {});
    decided = 'denied';
  } else if (f.enforced_result) {
    decided = /deny|denied/i.test(f.enforced_result) ? 'denied' : 'allowed';
    ev.emit('authorization', 'rbac', decided, f.enforced_policy ?? '', { engine_result: f.enforced_result });
  }
  if (f.shadow_result) {
    const shadowOutcome: Outcome = /deny|denied/i.test(f.shadow_result) ? 'denied' : 'allowed';
    ev.emit('authorization', 'rbac_shadow', shadowOutcome, f.shadow_policy ?? '', { shadow: 'true', engine_result: f.shadow_result });
  }
  if (!decided && status === 403 && rules.httpStatus && !relayed) {
    ev.emit('authorization', 'http_403', 'denied', '', rcd ? { reason: rcd } : {});
    decided = 'denied';
  }

  // ---- authentication
  let authn = false;
  if (f.upstream_transport_failure_reason || f.downstream_transport_failure_reason || ctd || (rcd && rcd !== 'via_upstream')) {
    const tls: Array<[string, string | undefined]> = [
      ['upstream', f.upstream_transport_failure_reason],
      ['downstream', f.downstream_transport_failure_reason],
      ['downstream', TLS_FAILURE.test(ctd) ? ctd : undefined],
      ['upstream', /TLS_error|SSL|CERTIFICATE/.test(rcd) ? rcd : undefined],
    ];
    for (const [direction, reason] of tls) {
      if (!reason || !TLS_FAILURE.test(reason)) continue;
      const action = TLS_VERIFY.test(reason) ? 'tls_verification' : 'tls_handshake';
      ev.emit('authentication', action, 'failure', '', { reason, direction, ...(direction === 'upstream' && f.upstream_host ? { upstream_host: f.upstream_host } : {}) });
      authn = true;
      break;
    }
  }
  if (!authn && !principal && flags.has('NR') && (rcd === 'filter_chain_not_found' || ctd === 'filter_chain_not_found')) {
    // A plaintext connection to a port that only has mTLS filter chains (Istio STRICT mode).
    ev.emit('authentication', 'peer_identity_missing', 'failure', '', { reason: 'filter_chain_not_found' });
    authn = true;
  }
  if (!authn && status === 401 && rules.httpStatus && !relayed && !flags.has('UAEX')) {
    ev.emit('authentication', rcd.startsWith('jwt_authn') ? 'jwt' : 'http_401', 'failure', '', rcd ? { reason: rcd } : {});
    authn = true;
  }
  if (!authn && !principal && rules.requirePeer.length) {
    const target = f.authority ?? f.upstream_cluster ?? '';
    const host = target.replace(/:\d+$/, '');
    if ((target && matchAny(rules.requirePeer, target)) || (host && matchAny(rules.requirePeer, host))) {
      ev.emit('authentication', 'peer_identity_missing', status > 0 && status < 400 ? 'allowed' : 'failure', '', { reason: 'no_peer_certificate' });
    }
  }

  // ---- sensitive access and rate limits
  const rateLimited = flags.has('RL') || status === 429;
  const sensitive = path !== '' && matchAny(rules.sensitive, path);
  if (sensitive || (rateLimited && rules.rateLimits === 'all')) {
    let outcome: Outcome;
    if (rateLimited) outcome = 'rate_limited';
    else if (decided === 'denied' || status === 401 || status === 403 || flags.has('UAEX')) outcome = 'denied';
    else if (status >= 400 || (status === 0 && flags.size > 0)) outcome = 'failed';
    else outcome = 'allowed';
    ev.emit('sensitive_access', sensitive ? 'access' : 'rate_limit', outcome, '', { sensitive: String(sensitive) });
  }
  return out;
}

/** Builds the events of one record; a class, not closures, keeps the per-record cost flat. */
class Emitter {
  private common: Record<string, string> | undefined;
  private principal: string | undefined;

  constructor(
    private readonly out: AuditEvent[],
    private readonly f: AccessFields,
    private readonly format: SourceFormat,
    private readonly status: number,
    private readonly rcd: string,
    private readonly ctd: string,
    private readonly service: string,
    private readonly time: bigint,
    private readonly destination: string,
    private readonly path: string,
    private readonly record: LogRecord,
  ) {}

  /** Details every event of the record shares; built on the first event only (most records give none). */
  private commonDetails(): Record<string, string> {
    if (this.common) return this.common;
    const f = this.f;
    const c: Record<string, string> = { format: this.format };
    if (f.method) c.method = f.method;
    if (this.status) c.status_code = String(this.status);
    if (f.response_flags) c.response_flags = f.response_flags;
    if (this.rcd) c.response_code_details = this.rcd;
    if (this.ctd) c.connection_termination_details = this.ctd;
    if (f.request_id) c.request_id = f.request_id;
    if (f.upstream_cluster) c.upstream_cluster = f.upstream_cluster;
    if (f.x_forwarded_for) c.x_forwarded_for = f.x_forwarded_for;
    if (this.service) c.service = this.service;
    return (this.common = c);
  }

  emit(category: Category, action: string, outcome: Outcome, policy: string, extra: Record<string, string> = {}): void {
    this.out.push({
      time: this.time,
      category,
      action,
      outcome,
      principal: (this.principal ??= this.f.peer_uri_san || this.f.user ? principalOf(this.f) : ''),
      source: sourceOf(this.f),
      destination: this.destination,
      resource: this.path,
      policy,
      traceId: this.record.traceId,
      spanId: this.record.spanId,
      // Object.assign, not a spread: a spread's copy gets a map of its own once a key is
      // added to it (event_id, classify-payload.ts), so every event would have its own shape.
      details: Object.assign({}, this.commonDetails(), extra),
    });
  }
}
