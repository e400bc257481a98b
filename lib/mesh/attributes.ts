/**
 * Logical fields the classifier reads, each from the first attribute present
 * in its list. Defaults: the OTel semantic-convention names for HTTP and
 * network fields, and for Envoy-specific fields the access-log operator's
 * name in snake_case (what Istio's `envoyOtelAls` labels and most Envoy
 * OpenTelemetry access-log configs use).
 */
export const DEFAULT_ATTRIBUTES = {
  status_code: ['http.response.status_code', 'response_code', 'http.status_code'],
  method: ['http.request.method', 'method', 'http.method'],
  path: ['url.path', 'path', 'http.target'],
  authority: ['server.address', 'authority', 'http.host'],
  client_address: ['client.address', 'downstream_remote_address', 'source.address'],
  client_port: ['client.port', 'source.port'],
  upstream_host: ['upstream_host', 'destination.address'],
  upstream_cluster: ['upstream_cluster'],
  requested_server_name: ['requested_server_name', 'tls.server_name'],
  downstream_local_address: ['downstream_local_address'],
  response_flags: ['response_flags'],
  response_code_details: ['response_code_details'],
  connection_termination_details: ['connection_termination_details'],
  upstream_transport_failure_reason: ['upstream_transport_failure_reason'],
  downstream_transport_failure_reason: ['downstream_transport_failure_reason'],
  peer_uri_san: ['downstream_peer_uri_san'],
  user: ['enduser.id', 'user.id'],
  request_id: ['x_request_id', 'http.request.header.x-request-id', 'request_id'],
  user_agent: ['user_agent.original', 'user_agent', 'http.user_agent'],
  x_forwarded_for: ['x_forwarded_for', 'http.request.header.x-forwarded-for'],
  // RBAC results from dynamic metadata (envoy.filters.http.rbac); Istio's
  // dry-run policies use the istio_dry_run_{deny,allow}_ prefixes. The result
  // and policy lists pair up by position.
  shadow_result: ['shadow_engine_result', 'istio_dry_run_deny_shadow_engine_result', 'istio_dry_run_allow_shadow_engine_result'],
  shadow_policy: ['shadow_effective_policy_id', 'istio_dry_run_deny_shadow_effective_policy_id', 'istio_dry_run_allow_shadow_effective_policy_id'],
  enforced_result: ['enforced_engine_result'],
  enforced_policy: ['enforced_effective_policy_id'],
} satisfies Record<string, string[]>;

export type Field = keyof typeof DEFAULT_ATTRIBUTES;
export type AttributeMap = Record<Field, string[]>;
