/**
 * Kubernetes audit events (`audit.k8s.io/v1` Event, arriving as a log body:
 * a JSON string from a log file, or a map when an upstream parser decoded it).
 *
 * Only the `ResponseComplete` (and `Panic`) stage counts: the API server may
 * also log `RequestReceived` for the same request, and one change must be
 * one event. Changes to mesh resources become `configuration` events with
 * who, what object, which verb and the change (the request object: the patch
 * for `patch`, the spec for create/update); `authorization.k8s.io/decision`
 * becomes an `authorization` event (by default only `forbid`, since every
 * API request carries a decision).
 */
import { KvList, type AnyValue } from '../../core/model.ts';
import type { AuditEvent, Outcome } from './event.ts';
import { toPlain } from '../mesh/fields.ts';
import { matchAny } from './glob.ts';

export interface K8sRules {
  apiGroups: RegExp[];
  decisions: 'denied' | 'all' | 'none';
  maxChangeBytes: number;
}

interface ObjectRef {
  resource?: string;
  subresource?: string;
  namespace?: string;
  name?: string;
  apiGroup?: string;
  apiVersion?: string;
}

interface K8sAuditEvent {
  apiVersion: string;
  kind: string;
  auditID?: string;
  stage?: string;
  requestURI?: string;
  verb?: string;
  user?: { username?: string; groups?: string[] };
  impersonatedUser?: { username?: string };
  sourceIPs?: string[];
  userAgent?: string;
  objectRef?: ObjectRef;
  responseStatus?: { code?: number; reason?: string; message?: string };
  requestObject?: Record<string, unknown>;
  responseObject?: Record<string, unknown>;
  requestReceivedTimestamp?: string;
  stageTimestamp?: string;
  annotations?: Record<string, string>;
}

const MUTATING = new Set(['create', 'update', 'patch', 'delete', 'deletecollection']);

/** The body as an audit event, or undefined when it is not one. */
export function asK8sAudit(body: AnyValue): K8sAuditEvent | undefined {
  let obj: unknown;
  if (typeof body === 'string') {
    if (body.charCodeAt(0) !== 123 /* { */ || !body.includes('audit.k8s.io/')) return undefined;
    try {
      obj = JSON.parse(body);
    } catch {
      return undefined;
    }
  } else if (body instanceof KvList) obj = toPlain(body);
  else return undefined;
  const e = obj as K8sAuditEvent;
  if (typeof e?.apiVersion !== 'string' || !e.apiVersion.startsWith('audit.k8s.io/') || e.kind !== 'Event') return undefined;
  return e;
}

/** RFC 3339 with up to nanosecond fractions → ns since the epoch (0n when unparsable). */
export function rfc3339ToNanos(s: string | undefined): bigint {
  if (!s) return 0n;
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/.exec(s);
  if (!m) return 0n;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return 0n;
  return BigInt(ms) * 1_000_000n + BigInt((m[2] ?? '').padEnd(9, '0') || '0');
}

/** `RBAC: allowed by RoleBinding "edit/foo" of ClusterRole "edit" to User "alice"` → `RoleBinding/edit/foo`. */
export function bindingFromReason(reason: string | undefined): string {
  const m = reason ? /\b(ClusterRoleBinding|RoleBinding) "([^"]+)"/.exec(reason) : null;
  return m ? `${m[1]}/${m[2]}` : '';
}

function resourceOf(e: K8sAuditEvent): string {
  const r = e.objectRef;
  if (!r?.resource) return (e.requestURI ?? '').split('?')[0]!;
  let s = r.apiGroup ? `${r.resource}.${r.apiGroup}` : r.resource;
  if (r.namespace) s += `/${r.namespace}`;
  if (r.name) s += `/${r.name}`;
  if (r.subresource) s += `/${r.subresource}`;
  return s;
}

/** What changed: the patch for `patch`, the spec (or the object) for create/update. */
function changeOf(e: K8sAuditEvent): unknown {
  const obj = e.requestObject;
  if (!obj || typeof obj !== 'object') return undefined;
  if (e.verb === 'patch') return obj;
  if ('spec' in obj) return obj.spec;
  const { metadata: _m, ...rest } = obj as Record<string, unknown>;
  return rest;
}

export function classifyK8s(e: K8sAuditEvent, rules: K8sRules, recordTime: bigint, cluster: string): AuditEvent[] {
  if (e.stage && e.stage !== 'ResponseComplete' && e.stage !== 'Panic') return [];
  const out: AuditEvent[] = [];
  const ann = e.annotations ?? {};
  const decision = ann['authorization.k8s.io/decision'] ?? '';
  const reason = ann['authorization.k8s.io/reason'] ?? '';
  const code = e.responseStatus?.code ?? 0;
  const verb = e.verb ?? '';
  const time = rfc3339ToNanos(e.stageTimestamp) || rfc3339ToNanos(e.requestReceivedTimestamp) || recordTime;
  const base = {
    time,
    principal: e.user?.username ?? '',
    source: e.sourceIPs?.[0] ?? '',
    destination: cluster || 'kube-apiserver',
    resource: resourceOf(e),
    policy: bindingFromReason(reason),
    traceId: '',
    spanId: '',
  };
  const details: Record<string, string> = { format: 'k8s_audit', verb };
  if (e.auditID) details.audit_id = e.auditID;
  if (e.requestURI) details.request_uri = e.requestURI;
  if (e.userAgent) details.user_agent = e.userAgent;
  if (e.user?.groups?.length) details.groups = e.user.groups.join(',');
  if (e.impersonatedUser?.username) details.impersonated_user = e.impersonatedUser.username;
  if (code) details.status_code = String(code);
  if (reason) details.authorization_reason = reason;
  if (e.responseStatus?.message) details.status_message = e.responseStatus.message;

  const group = e.objectRef?.apiGroup ?? '';
  if (MUTATING.has(verb) && group && matchAny(rules.apiGroups, group)) {
    const d = Object.assign({}, details);
    const kind = (e.requestObject?.kind ?? e.responseObject?.kind) as string | undefined;
    if (kind) d.kind = kind;
    if (e.objectRef?.apiVersion) d.api_version = `${group}/${e.objectRef.apiVersion}`;
    const change = changeOf(e);
    if (change !== undefined) {
      let json = JSON.stringify(change);
      if (json.length > rules.maxChangeBytes) {
        json = json.slice(0, rules.maxChangeBytes);
        d.change_truncated = 'true';
      }
      d.change = json;
    }
    const outcome: Outcome = decision === 'forbid' || code === 403 ? 'denied' : code >= 400 ? 'failure' : 'success';
    out.push({ ...base, category: 'configuration', action: verb, outcome, details: d });
  }

  const denied = decision === 'forbid';
  if ((denied && rules.decisions !== 'none') || (decision === 'allow' && rules.decisions === 'all')) {
    out.push({ ...base, category: 'authorization', action: 'k8s_rbac', outcome: denied ? 'denied' : 'allowed', details: Object.assign({}, details) });
  }
  return out;
}
