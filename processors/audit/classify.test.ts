import { describe, expect, it } from 'vitest';
import { KvList, newLogRecord, type AnyValue, type KeyValue } from '../../core/model.ts';
import { classifyRecord, compileRules, istioPolicyParts, rbacDeniedPolicy } from './classify.ts';
import { defaultAuditRules, type AuditRules } from './config.ts';
import { ENVOY_RBAC_DENIED, ISTIO_LINES, SPAN, T0, TRACE, envoyOtel, istioText, k8sAuthorizationPolicyPatch, semconv } from './testdata/fixtures.ts';

const rules = compileRules(defaultAuditRules());
const res: KeyValue[] = [{ key: 'service.name', value: 'istio-proxy' }];
const at = (iso: string) => BigInt(Date.parse(iso)) * 1_000_000n;

describe('authorization', () => {
  it('Envoy OTel access log: RBAC denial with the Istio policy id parsed, plus sensitive access', () => {
    const events = classifyRecord(envoyOtel(ENVOY_RBAC_DENIED), res, rules);
    const common = {
      format: 'envoy',
      method: 'GET',
      status_code: '403',
      response_code_details: 'rbac_access_denied_matched_policy[ns[foo]-policy[deny-admin]-rule[0]]',
      request_id: '2c6c1a0f-7b8e-9d1a-a1c2-3e4f5a6b7c8d',
      upstream_cluster: 'inbound|80||',
      service: 'istio-proxy',
    };
    const base = {
      time: T0,
      principal: 'spiffe://cluster.local/ns/foo/sa/sleep',
      source: '10.244.0.12:51234',
      destination: 'httpbin.foo:8000',
      resource: '/admin/users',
      traceId: TRACE,
      spanId: SPAN,
    };
    expect(events).toEqual([
      {
        ...base,
        category: 'authorization',
        action: 'rbac',
        outcome: 'denied',
        policy: 'ns[foo]-policy[deny-admin]-rule[0]',
        details: { ...common, policy_namespace: 'foo', policy_name: 'deny-admin', policy_rule: '0' },
      },
      { ...base, category: 'sensitive_access', action: 'access', outcome: 'denied', policy: '', details: { ...common, sensitive: 'true' } },
    ]);
  });

  it('Istio default text line: RBAC denial, time and fields from the line', () => {
    const [e, ...rest] = classifyRecord(istioText(ISTIO_LINES.rbacDenied), res, rules);
    expect(rest).toEqual([]);
    expect(e).toEqual({
      time: at('2024-05-14T09:12:03.456Z'),
      category: 'authorization',
      action: 'rbac',
      outcome: 'denied',
      principal: '',
      source: '10.244.0.12:51234',
      destination: 'httpbin.foo:8000',
      resource: '/headers',
      policy: 'ns[foo]-policy[deny-path-headers]-rule[0]',
      traceId: '',
      spanId: '',
      details: {
        format: 'istio_text',
        method: 'GET',
        status_code: '403',
        response_code_details: 'rbac_access_denied_matched_policy[ns[foo]-policy[deny-path-headers]-rule[0]]',
        request_id: '2c6c1a0f-7b8e-9d1a-a1c2-3e4f5a6b7c8d',
        upstream_cluster: 'inbound|80||',
        service: 'istio-proxy',
        policy_namespace: 'foo',
        policy_name: 'deny-path-headers',
        policy_rule: '0',
      },
    });
  });

  it('network RBAC (TCP) denial from the connection termination details', () => {
    const [e] = classifyRecord(istioText(ISTIO_LINES.tcpRbacDenied), [], rules);
    expect(e).toMatchObject({ category: 'authorization', action: 'rbac', outcome: 'denied', policy: 'ns[db]-policy[deny-all]-rule[0]', resource: '', destination: '10.244.3.3:3306', source: '10.244.0.12:40112' });
  });

  it('ext_authz UAEX denial at a gateway', () => {
    const events = classifyRecord(istioText(ISTIO_LINES.extAuthzDenied), [], rules);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      category: 'authorization',
      action: 'ext_authz',
      outcome: 'denied',
      policy: '',
      resource: '/api/orders',
      destination: 'shop.example.com',
      source: '198.51.100.4:61000',
      details: { reason: 'ext_authz_denied', response_flags: 'UAEX', x_forwarded_for: '198.51.100.4', method: 'POST' },
    });
  });

  it('RBAC shadow (Istio dry-run) result, request itself allowed', () => {
    const events = classifyRecord(
      envoyOtel({ ...ENVOY_RBAC_DENIED, path: '/status/200', response_code: '200', response_code_details: 'via_upstream', istio_dry_run_deny_shadow_engine_result: 'denied', istio_dry_run_deny_shadow_effective_policy_id: 'ns[foo]-policy[dry-run-deny]-rule[0]' }),
      [],
      rules,
    );
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ category: 'authorization', action: 'rbac_shadow', outcome: 'denied', policy: 'ns[foo]-policy[dry-run-deny]-rule[0]', details: { shadow: 'true', engine_result: 'denied' } });
  });

  it('enforced RBAC allow from dynamic metadata', () => {
    const events = classifyRecord(envoyOtel({ ...ENVOY_RBAC_DENIED, path: '/ok', response_code: '200', response_code_details: 'via_upstream', enforced_engine_result: 'allowed', enforced_effective_policy_id: 'ns[foo]-policy[allow-sleep]-rule[1]' }), [], rules);
    expect(events.map((e) => [e.category, e.action, e.outcome, e.policy])).toEqual([['authorization', 'rbac', 'allowed', 'ns[foo]-policy[allow-sleep]-rule[1]']]);
  });

  it('a 403 a client sidecar only relays is not a second denial', () => {
    expect(classifyRecord(istioText(ISTIO_LINES.relayed403), [], rules)).toEqual([]);
  });

  it('an application 403 (semconv) is an http_403 denial', () => {
    const events = classifyRecord(semconv({ 'http.response.status_code': 403n, 'url.path': '/api/reports', 'http.request.method': 'GET', 'enduser.id': 'bob' }), [], rules);
    expect(events.map((e) => [e.category, e.action, e.outcome, e.principal, e.resource])).toEqual([['authorization', 'http_403', 'denied', 'bob', '/api/reports']]);
  });

  it('parses policy ids', () => {
    expect(rbacDeniedPolicy('rbac_access_denied_matched_policy[none]')).toBe('');
    expect(rbacDeniedPolicy('rbac_access_denied_matched_policy[ns[a]-policy[b]-rule[2]]')).toBe('ns[a]-policy[b]-rule[2]');
    expect(rbacDeniedPolicy('rbac_access_denied_matched_policy[plain-envoy-policy]')).toBe('plain-envoy-policy');
    expect(rbacDeniedPolicy('via_upstream')).toBeUndefined();
    expect(istioPolicyParts('ns[a]-policy[b-c]-rule[12]')).toEqual({ namespace: 'a', name: 'b-c', rule: '12' });
    expect(istioPolicyParts('plain')).toBeUndefined();
  });
});

describe('authentication', () => {
  it('upstream TLS certificate verification failure', () => {
    const events = classifyRecord(istioText(ISTIO_LINES.tlsVerifyFailed), [], rules);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      category: 'authentication',
      action: 'tls_verification',
      outcome: 'failure',
      destination: 'reviews:9080',
      resource: '/reviews/1',
      details: { direction: 'upstream', reason: 'TLS error: 268435581:SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED', upstream_host: '10.244.2.9:9080' },
    });
  });

  it('plaintext connection to a STRICT mTLS port: missing peer identity', () => {
    const events = classifyRecord(istioText(ISTIO_LINES.plaintextToStrict), [], rules);
    expect(events).toEqual([
      expect.objectContaining({ category: 'authentication', action: 'peer_identity_missing', outcome: 'failure', principal: '', source: '10.244.0.99:45678', destination: '10.244.1.7:80', details: expect.objectContaining({ reason: 'filter_chain_not_found', response_flags: 'NR' }) }),
    ]);
  });

  it('401 from a semconv record, with client.address:client.port as source', () => {
    const events = classifyRecord(semconv({ 'http.response.status_code': 401n, 'url.path': '/api/login', 'http.request.method': 'POST', 'client.address': '203.0.113.9', 'client.port': 53000n, 'server.address': 'api.example.com' }), [], rules);
    expect(events).toEqual([
      {
        time: T0,
        category: 'authentication',
        action: 'http_401',
        outcome: 'failure',
        principal: '',
        source: '203.0.113.9:53000',
        destination: 'api.example.com',
        resource: '/api/login',
        policy: '',
        traceId: TRACE,
        spanId: SPAN,
        details: { format: 'semconv', method: 'POST', status_code: '401' },
      },
    ]);
  });

  it('JWT rejected by Istio RequestAuthentication', () => {
    const events = classifyRecord(envoyOtel({ ...ENVOY_RBAC_DENIED, path: '/api', response_code: '401', response_code_details: 'jwt_authn_access_denied{Jwt_is_missing}' }), [], rules);
    expect(events.map((e) => [e.category, e.action, e.outcome, e.details.reason])).toEqual([['authentication', 'jwt', 'failure', 'jwt_authn_access_denied{Jwt_is_missing}']]);
  });

  it('require_peer_identity: a request without a peer certificate to a protected destination', () => {
    const r = compileRules({ ...defaultAuditRules(), require_peer_identity: ['payments.*'] });
    const { downstream_peer_uri_san: _drop, ...noPeer } = ENVOY_RBAC_DENIED;
    const events = classifyRecord(envoyOtel({ ...noPeer, authority: 'payments.prod:8080', path: '/pay', response_code: '200', response_code_details: 'via_upstream' }), [], r);
    expect(events.map((e) => [e.category, e.action, e.outcome, e.destination])).toEqual([['authentication', 'peer_identity_missing', 'allowed', 'payments.prod:8080']]);
    // With a SPIFFE identity there is nothing to report.
    expect(classifyRecord(envoyOtel({ ...ENVOY_RBAC_DENIED, authority: 'payments.prod:8080', path: '/pay', response_code: '200', response_code_details: 'via_upstream' }), [], r)).toEqual([]);
  });
});

describe('sensitive access and rate limits', () => {
  it('a rate-limited request on any path', () => {
    const events = classifyRecord(istioText(ISTIO_LINES.rateLimited), [], rules);
    expect(events.map((e) => [e.category, e.action, e.outcome, e.resource, e.details.sensitive])).toEqual([['sensitive_access', 'rate_limit', 'rate_limited', '/api/orders', 'false']]);
    const onlySensitive = compileRules({ ...defaultAuditRules(), rate_limits: 'sensitive' });
    expect(classifyRecord(istioText(ISTIO_LINES.rateLimited), [], onlySensitive)).toEqual([]);
  });

  it('an allowed /admin request (semconv) with the end user as principal', () => {
    const events = classifyRecord(semconv({ 'http.response.status_code': 200n, 'url.path': '/admin', 'http.request.method': 'GET', 'enduser.id': 'alice' }), [], rules);
    expect(events).toEqual([expect.objectContaining({ category: 'sensitive_access', action: 'access', outcome: 'allowed', principal: 'alice', resource: '/admin' })]);
  });

  it('Istio 1.3-1.8 text line on /admin', () => {
    const events = classifyRecord(istioText(ISTIO_LINES.legacyAdmin), [], rules);
    expect(events.map((e) => [e.category, e.outcome, e.resource, e.destination, e.time])).toEqual([['sensitive_access', 'allowed', '/admin/config', 'httpbin:8000', at('2020-11-25T21:26:18.409Z')]]);
  });

  it('configurable globs and attribute names', () => {
    const cfg: AuditRules = { ...defaultAuditRules(), sensitive_paths: ['/billing/*/export'], attributes: { path: ['http.route_path'] } };
    const r = compileRules(cfg);
    const rec = semconv({ 'http.response.status_code': 200n, 'http.route_path': '/billing/42/export', 'url.path': '/admin' });
    expect(classifyRecord(rec, [], r).map((e) => e.resource)).toEqual(['/billing/42/export']);
    expect(classifyRecord(semconv({ 'http.response.status_code': 200n, 'http.route_path': '/billing/42/x/export' }), [], r)).toEqual([]);
  });

  it('ordinary traffic and ordinary logs are not events', () => {
    expect(classifyRecord(istioText(ISTIO_LINES.ok200), [], rules)).toEqual([]);
    expect(classifyRecord(newLogRecord({ body: 'user logged in', timeUnixNano: T0 }), [], rules)).toEqual([]);
    expect(classifyRecord(newLogRecord({ body: '[not an access log] x' }), [], rules)).toEqual([]);
  });
});

describe('configuration (Kubernetes audit events)', () => {
  const body = (o: Record<string, unknown>) => JSON.stringify(o);

  it('AuthorizationPolicy patch: who, what, verb, the change', () => {
    const events = classifyRecord(newLogRecord({ body: body(k8sAuthorizationPolicyPatch()), timeUnixNano: T0 }), [{ key: 'k8s.cluster.name', value: 'prod-eu' }], rules);
    expect(events).toEqual([
      {
        time: at('2024-05-14T09:10:00.130Z') + 789_000n,
        category: 'configuration',
        action: 'patch',
        outcome: 'success',
        principal: 'alice@example.com',
        source: '192.0.2.10',
        destination: 'prod-eu',
        resource: 'authorizationpolicies.security.istio.io/foo/deny-admin',
        policy: 'RoleBinding/mesh-admins/foo',
        traceId: '',
        spanId: '',
        details: {
          format: 'k8s_audit',
          verb: 'patch',
          audit_id: '1b7f3c9e-2a4d-4e6f-8a1b-3c5d7e9f0a2b',
          request_uri: '/apis/security.istio.io/v1/namespaces/foo/authorizationpolicies/deny-admin?fieldManager=kubectl-edit',
          user_agent: 'kubectl/v1.30.0 (linux/amd64) kubernetes/7c48c2b',
          groups: 'mesh-admins,system:authenticated',
          status_code: '200',
          authorization_reason: 'RBAC: allowed by RoleBinding "mesh-admins/foo" of ClusterRole "istio-admin" to Group "mesh-admins"',
          kind: 'AuthorizationPolicy',
          api_version: 'security.istio.io/v1',
          change: '{"spec":{"action":"ALLOW","rules":[{"to":[{"operation":{"paths":["/admin/*"]}}]}]}}',
        },
      },
    ]);
  });

  it('a forbidden delete: configuration denied and a k8s_rbac denial', () => {
    const ev = k8sAuthorizationPolicyPatch({
      verb: 'delete',
      user: { username: 'system:serviceaccount:ci:deployer' },
      objectRef: { resource: 'peerauthentications', namespace: 'istio-system', name: 'default', apiGroup: 'security.istio.io', apiVersion: 'v1beta1' },
      requestObject: undefined,
      responseStatus: { code: 403, message: 'forbidden' },
      annotations: { 'authorization.k8s.io/decision': 'forbid', 'authorization.k8s.io/reason': '' },
    });
    const events = classifyRecord(newLogRecord({ body: body(ev) }), [], rules);
    expect(events.map((e) => [e.category, e.action, e.outcome, e.principal, e.resource, e.destination])).toEqual([
      ['configuration', 'delete', 'denied', 'system:serviceaccount:ci:deployer', 'peerauthentications.security.istio.io/istio-system/default', 'kube-apiserver'],
      ['authorization', 'k8s_rbac', 'denied', 'system:serviceaccount:ci:deployer', 'peerauthentications.security.istio.io/istio-system/default', 'kube-apiserver'],
    ]);
    expect(events[0]!.details.change).toBeUndefined();
  });

  it('a body already decoded to a map is read too', () => {
    const toKv = (v: unknown): AnyValue => {
      if (Array.isArray(v)) return v.map(toKv);
      if (v && typeof v === 'object') return new KvList(Object.entries(v).map(([key, value]) => ({ key, value: toKv(value) })));
      return typeof v === 'number' ? BigInt(v) : (v as string);
    };
    const events = classifyRecord(newLogRecord({ body: toKv(k8sAuthorizationPolicyPatch()) }), [], rules);
    expect(events.map((e) => [e.category, e.action, e.outcome, e.resource])).toEqual([['configuration', 'patch', 'success', 'authorizationpolicies.security.istio.io/foo/deny-admin']]);
  });

  it('skips RequestReceived stages, reads of mesh resources, and other API groups', () => {
    const rec = (o: Record<string, unknown>) => newLogRecord({ body: body(k8sAuthorizationPolicyPatch(o)) });
    expect(classifyRecord(rec({ stage: 'RequestReceived' }), [], rules)).toEqual([]);
    expect(classifyRecord(rec({ verb: 'get' }), [], rules)).toEqual([]);
    expect(classifyRecord(rec({ objectRef: { resource: 'configmaps', namespace: 'foo', name: 'x', apiVersion: 'v1' } }), [], rules)).toEqual([]);
  });

  it('decisions: all records allowed decisions as authorization events', () => {
    const r = compileRules({ ...defaultAuditRules(), kubernetes: { ...defaultAuditRules().kubernetes, decisions: 'all' } });
    const events = classifyRecord(newLogRecord({ body: body(k8sAuthorizationPolicyPatch({ verb: 'get' })) }), [], r);
    expect(events.map((e) => [e.category, e.action, e.outcome, e.policy])).toEqual([['authorization', 'k8s_rbac', 'allowed', 'RoleBinding/mesh-admins/foo']]);
  });

  it('long changes are truncated and marked', () => {
    const r = compileRules({ ...defaultAuditRules(), kubernetes: { ...defaultAuditRules().kubernetes, max_change_bytes: 16 } });
    const [e] = classifyRecord(newLogRecord({ body: body(k8sAuthorizationPolicyPatch()) }), [], r);
    expect(e!.details.change).toBe('{"spec":{"action');
    expect(e!.details.change_truncated).toBe('true');
  });
});
