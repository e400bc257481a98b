/**
 * Records shaped like the real sources: Envoy's OpenTelemetry access logger
 * (Istio `envoyOtelAls` with labels: fields as attributes, trace context from
 * the active span), Istio's default TEXT line in the body (the provider
 * without labels), OTel semantic-convention HTTP logs, and Kubernetes
 * audit.k8s.io/v1 Events.
 */
import { newLogRecord, type KeyValue, type LogRecord } from '../../../core/model.ts';

export const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
export const SPAN = '00f067aa0ba902b7';
export const T0 = 1_715_677_923_456_000_000n; // 2024-05-14T09:12:03.456Z

const kv = (o: Record<string, string | bigint | number>): KeyValue[] => Object.entries(o).map(([key, value]) => ({ key, value }));

export function envoyOtel(attrs: Record<string, string | bigint | number>, trace = true): LogRecord {
  return newLogRecord({ timeUnixNano: T0, attributes: kv(attrs), traceId: trace ? TRACE : '', spanId: trace ? SPAN : '', body: '' });
}

export function istioText(line: string, init: Partial<LogRecord> = {}): LogRecord {
  return newLogRecord({ body: line + '\n', ...init });
}

export function semconv(attrs: Record<string, string | bigint | number>): LogRecord {
  return newLogRecord({ timeUnixNano: T0, attributes: kv(attrs), traceId: TRACE, spanId: SPAN, severityText: 'INFO', body: 'request completed' });
}

/** Inbound sidecar, RBAC DENY policy matched on /admin (labels as attributes). */
export const ENVOY_RBAC_DENIED = {
  start_time: '2024-05-14T09:12:03.456Z',
  method: 'GET',
  path: '/admin/users?id=7',
  protocol: 'HTTP/1.1',
  response_code: '403',
  response_flags: '-',
  response_code_details: 'rbac_access_denied_matched_policy[ns[foo]-policy[deny-admin]-rule[0]]',
  connection_termination_details: '-',
  upstream_transport_failure_reason: '-',
  bytes_received: '0',
  bytes_sent: '19',
  duration: '0',
  x_forwarded_for: '-',
  user_agent: 'curl/8.5.0',
  x_request_id: '2c6c1a0f-7b8e-9d1a-a1c2-3e4f5a6b7c8d',
  authority: 'httpbin.foo:8000',
  upstream_host: '-',
  upstream_cluster: 'inbound|80||',
  downstream_local_address: '10.244.1.7:80',
  downstream_remote_address: '10.244.0.12:51234',
  downstream_peer_uri_san: 'spiffe://cluster.local/ns/foo/sa/sleep',
  requested_server_name: 'outbound_.8000_._.httpbin.foo.svc.cluster.local',
  route_name: 'default',
};

export const ISTIO_LINES = {
  rbacDenied:
    '[2024-05-14T09:12:03.456Z] "GET /headers HTTP/1.1" 403 - rbac_access_denied_matched_policy[ns[foo]-policy[deny-path-headers]-rule[0]] - "-" 0 19 0 - "-" "curl/8.5.0" "2c6c1a0f-7b8e-9d1a-a1c2-3e4f5a6b7c8d" "httpbin.foo:8000" "-" inbound|80|| - 10.244.1.7:80 10.244.0.12:51234 outbound_.8000_._.httpbin.foo.svc.cluster.local -',
  extAuthzDenied:
    '[2024-05-14T09:12:04.000Z] "POST /api/orders HTTP/2" 403 UAEX ext_authz_denied - "-" 41 0 3 - "198.51.100.4" "Mozilla/5.0 (X11; Linux x86_64)" "7a1e2d44-0b7c-4c51-9c84-0d8a0f3c1a11" "shop.example.com" "-" outbound|8080||orders.shop.svc.cluster.local - 10.244.0.30:8443 198.51.100.4:61000 shop.example.com -',
  tlsVerifyFailed:
    '[2024-05-14T09:12:05.000Z] "GET /reviews/1 HTTP/1.1" 503 UF upstream_reset_before_response_started{connection_failure,TLS_error:_268435581:SSL_routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED} - "TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED" 0 91 5 - "-" "Go-http-client/1.1" "b0c8a1d2-5e6f-4a1b-9c2d-3e4f5a6b7c8d" "reviews:9080" "10.244.2.9:9080" outbound|9080||reviews.default.svc.cluster.local - 10.96.14.2:9080 10.244.0.5:40000 - default',
  plaintextToStrict:
    '[2024-05-14T09:12:06.000Z] "- - -" 0 NR filter_chain_not_found - "-" 0 0 0 - "-" "-" "-" "-" "-" - - 10.244.1.7:80 10.244.0.99:45678 - -',
  tcpRbacDenied:
    '[2024-05-14T09:12:07.000Z] "- - -" 0 - - rbac_access_denied_matched_policy[ns[db]-policy[deny-all]-rule[0]] "-" 0 0 1 - "-" "-" "-" "-" "-" inbound|3306|| - 10.244.3.3:3306 10.244.0.12:40112 - -',
  rateLimited:
    '[2024-05-14T09:12:08.000Z] "POST /api/orders HTTP/1.1" 429 RL request_rate_limited - "-" 120 18 1 - "-" "k6/0.50" "c3d4e5f6-0000-4000-8000-000000000001" "orders:8080" "-" inbound|8080|| - 10.244.1.8:8080 10.244.0.40:33000 outbound_.8080_._.orders.shop.svc.cluster.local default',
  relayed403:
    '[2024-05-14T09:12:09.000Z] "GET /headers HTTP/1.1" 403 - via_upstream - "-" 0 19 2 1 "-" "curl/8.5.0" "2c6c1a0f-7b8e-9d1a-a1c2-3e4f5a6b7c8d" "httpbin.foo:8000" "10.244.1.7:80" outbound|8000||httpbin.foo.svc.cluster.local 10.244.0.12:51234 10.96.0.20:8000 10.244.0.12:40000 - default',
  ok200:
    '[2024-05-14T09:12:10.000Z] "GET /status/200 HTTP/1.1" 200 - via_upstream - "-" 0 0 4 3 "-" "curl/8.5.0" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.244.1.7:80" inbound|80|| 127.0.0.6:41211 10.244.1.7:80 10.244.0.12:46520 outbound_.8000_._.httpbin.foo.svc.cluster.local default',
  // Istio 1.3-1.8: "%DYNAMIC_METADATA(istio.mixer:status)%" instead of the two details fields.
  legacyAdmin:
    '[2020-11-25T21:26:18.409Z] "GET /admin/config HTTP/1.1" 200 - "-" "-" 0 135 4 4 "-" "curl/7.73.0" "84961386-6d84-929d-98bd-c5aee93b5c88" "httpbin:8000" "10.44.1.27:80" outbound|8000||httpbin.foo.svc.cluster.local 10.44.1.23:37652 10.0.45.184:8000 10.44.1.23:46520 - default',
};

/** A Kubernetes audit event (RequestResponse level): alice patches an Istio AuthorizationPolicy. */
export function k8sAuthorizationPolicyPatch(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    kind: 'Event',
    apiVersion: 'audit.k8s.io/v1',
    level: 'RequestResponse',
    auditID: '1b7f3c9e-2a4d-4e6f-8a1b-3c5d7e9f0a2b',
    stage: 'ResponseComplete',
    requestURI: '/apis/security.istio.io/v1/namespaces/foo/authorizationpolicies/deny-admin?fieldManager=kubectl-edit',
    verb: 'patch',
    user: { username: 'alice@example.com', groups: ['mesh-admins', 'system:authenticated'] },
    sourceIPs: ['192.0.2.10'],
    userAgent: 'kubectl/v1.30.0 (linux/amd64) kubernetes/7c48c2b',
    objectRef: { resource: 'authorizationpolicies', namespace: 'foo', name: 'deny-admin', apiGroup: 'security.istio.io', apiVersion: 'v1' },
    responseStatus: { metadata: {}, code: 200 },
    requestObject: { spec: { action: 'ALLOW', rules: [{ to: [{ operation: { paths: ['/admin/*'] } }] }] } },
    responseObject: { apiVersion: 'security.istio.io/v1', kind: 'AuthorizationPolicy', metadata: { name: 'deny-admin', namespace: 'foo' } },
    requestReceivedTimestamp: '2024-05-14T09:10:00.123456Z',
    stageTimestamp: '2024-05-14T09:10:00.130789Z',
    annotations: {
      'authorization.k8s.io/decision': 'allow',
      'authorization.k8s.io/reason': 'RBAC: allowed by RoleBinding "mesh-admins/foo" of ClusterRole "istio-admin" to Group "mesh-admins"',
    },
    ...over,
  };
}
