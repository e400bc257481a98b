/** Mesh access logs and Kubernetes audit events as OTLP log records, for the detection tests and the baseline bench. */
import { emptyScope, newLogRecord, type KeyValue, type LogRecord, type LogsData } from '../core/model.ts';

const nowNs = (): bigint => BigInt(Date.now()) * 1_000_000n;
const kv = (o: Record<string, string>): KeyValue[] => Object.entries(o).map(([key, value]) => ({ key, value }));

let seq = 0;
function traceId(): string {
  return (++seq).toString(16).padStart(32, 'a');
}

/** An inbound sidecar's access log (Istio envoyOtelAls labels as attributes). */
export function access(o: { principal: string; authority: string; path: string; status?: number; from?: string; details?: string; flags?: string; enforced?: string; more?: Record<string, string> }): LogRecord {
  const status = o.status ?? 200;
  const attrs: Record<string, string> = {
    method: 'GET',
    path: o.path,
    protocol: 'HTTP/1.1',
    response_code: String(status),
    response_flags: o.flags ?? '-',
    response_code_details: o.details ?? 'via_upstream',
    authority: o.authority,
    upstream_cluster: 'inbound|8080||',
    downstream_remote_address: o.from ?? '10.244.0.12:51234',
    downstream_local_address: '10.244.1.7:8080',
    x_request_id: `req-${seq}`,
    ...(o.principal ? { downstream_peer_uri_san: o.principal } : {}),
    ...(o.enforced ? { enforced_engine_result: o.enforced, enforced_effective_policy_id: 'ns[shop]-policy[allow-shop]-rule[0]' } : {}),
    ...o.more,
  };
  return newLogRecord({ timeUnixNano: nowNs(), attributes: kv(attrs), traceId: traceId(), spanId: '00f067aa0ba902b7', body: '' });
}

export const denied = (principal: string, authority: string, path: string): LogRecord =>
  access({ principal, authority, path, status: 403, details: 'rbac_access_denied_matched_policy[ns[shop]-policy[deny-all]-rule[0]]' });

/** A client sidecar whose upstream TLS handshake failed verification (a rotated certificate the server does not trust). */
export function tlsFailure(from: string, authority: string): LogRecord {
  return access({
    principal: '',
    authority,
    path: '/pay',
    status: 503,
    flags: 'UF',
    details: 'upstream_reset_before_response_started{connection_failure,TLS_error:|268435581:SSL_routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end}',
    from,
    more: { upstream_transport_failure_reason: 'TLS_error:|268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED:TLS_error_end', upstream_cluster: `outbound|8443||${authority}` },
  });
}

/** A Kubernetes audit event: `user` did `verb` on an Istio security resource. */
export function k8sChange(verb: string, resource: string, name: string, user: string): LogRecord {
  const ts = new Date().toISOString();
  const body = {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'Metadata',
    auditID: `audit-${++seq}`,
    stage: 'ResponseComplete',
    requestURI: `/apis/security.istio.io/v1/namespaces/shop/${resource}/${name}`,
    verb,
    user: { username: user, groups: ['system:authenticated'] },
    sourceIPs: ['192.0.2.10'],
    objectRef: { resource, namespace: 'shop', name, apiGroup: 'security.istio.io', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 200 },
    requestReceivedTimestamp: ts,
    stageTimestamp: ts,
    annotations: { 'authorization.k8s.io/decision': 'allow', 'authorization.k8s.io/reason': '' },
  };
  return newLogRecord({ timeUnixNano: nowNs(), body: JSON.stringify(body) });
}

export function logsOf(records: LogRecord[], service = 'istio-proxy'): LogsData {
  return {
    resourceLogs: [
      {
        resource: { attributes: [{ key: 'service.name', value: service }], droppedAttributesCount: 0 },
        schemaUrl: '',
        scopeLogs: [{ scope: emptyScope(), schemaUrl: '', logRecords: records }],
      },
    ],
  };
}

export const FRONTEND = 'spiffe://cluster.local/ns/shop/sa/frontend';
export const CART = 'spiffe://cluster.local/ns/shop/sa/cart';
export const OPS = 'spiffe://cluster.local/ns/ops/sa/oncall';

/** Normal traffic: the frontend and cart calling their usual endpoints (allowed by policy), an operator on /admin, plain 200s. */
export function normalTraffic(n: number): LogRecord[] {
  const out: LogRecord[] = [];
  const paths = ['/api/orders', '/api/orders/1', '/api/cart', '/api/items/7'];
  for (let i = 0; i < n; i++) {
    switch (i % 4) {
      case 0: out.push(access({ principal: FRONTEND, authority: 'orders:8080', path: paths[i % paths.length]!, enforced: 'allowed' })); break;
      case 1: out.push(access({ principal: CART, authority: 'orders:8080', path: '/api/orders/' + i, enforced: 'allowed' })); break;
      case 2: out.push(access({ principal: OPS, authority: 'billing:8080', path: '/admin/users' })); break;
      default: out.push(access({ principal: FRONTEND, authority: 'catalog:8080', path: '/api/items/' + i }));
    }
  }
  return out;
}
