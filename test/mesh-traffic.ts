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

const CALLS: Array<[string, string, string[]]> = [
  [FRONTEND, 'orders:8080', ['/api/orders', '/api/orders/{id}', '/api/orders/{id}/items']],
  [FRONTEND, 'catalog:8080', ['/api/items', '/api/items/{id}', '/api/search']],
  [FRONTEND, 'cart:8080', ['/api/cart', '/api/cart/{id}']],
  [CART, 'orders:8080', ['/api/orders/{id}']],
  [CART, 'catalog:8080', ['/api/items/{id}']],
  ['spiffe://cluster.local/ns/shop/sa/orders', 'payments:8443', ['/v1/charges', '/v1/charges/{id}']],
  ['spiffe://cluster.local/ns/shop/sa/orders', 'ledger:8443', ['/v1/entries']],
  ['spiffe://cluster.local/ns/shop/sa/payments', 'ledger:8443', ['/v1/entries', '/v1/balances/{id}']],
];

/**
 * Normal traffic, the same mix at any offset: services calling their usual
 * endpoints (allowed by policy, or plain 200s), an operator on /admin, a
 * legacy client steadily denied on one path (1 in 250), and expired tokens
 * at the gateway from many addresses (1 in 500).
 */
export function normalTraffic(n: number, offset = 0): LogRecord[] {
  const out: LogRecord[] = [];
  for (let k = 0; k < n; k++) {
    const i = offset + k;
    if (i % 250 === 7) {
      out.push(denied('spiffe://cluster.local/ns/legacy/sa/batch', 'orders:8080', '/api/orders/export'));
      continue;
    }
    if (i % 500 === 11) {
      out.push(access({ principal: '', authority: 'gateway:443', path: '/api/login', status: 401, details: 'jwt_authn_access_denied{Jwt_is_expired}', from: `198.51.100.${Math.floor(i / 500) % 50}:${40000 + (i % 1000)}` }));
      continue;
    }
    if (i % 100 === 3) {
      out.push(access({ principal: OPS, authority: 'billing:8080', path: '/admin/users' }));
      continue;
    }
    const [principal, authority, paths] = CALLS[i % CALLS.length]!;
    const path = paths[(i >> 3) % paths.length]!.replace('{id}', String(1000 + (i % 997)));
    out.push(access({ principal, authority, path, ...(i % 2 ? { enforced: 'allowed' } : {}) }));
  }
  return out;
}
