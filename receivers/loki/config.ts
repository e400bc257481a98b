/**
 * The loki receiver's config, as the Collector's lokireceiver
 * (`protocols.http`, `use_incoming_timestamp`) plus this repo's shared
 * listener settings (TLS, auth, receive bounds, include_metadata).
 * `protocols.grpc` is refused: see README.md.
 */
import { s, type ConfigError } from '../../core/config/schema.ts';
import { serverAuthDefaults, serverAuthSchemaFields, validateServerAuth, type ServerAuthSettings } from '../../core/auth-config.ts';
import { tlsServerSchema, validateTlsServer, type TlsServerConfig } from '../../core/tls.ts';
import { receiveLimitDefaults, receiveLimitSchemaFields, validateReceiveLimits, type ReceiveLimits } from '../../core/inflight.ts';

export interface LokiHttpConfig extends ServerAuthSettings, ReceiveLimits {
  /** host:port for POST /loki/api/v1/push. Default 127.0.0.1:3500. */
  endpoint: string;
  /** Largest body, on the wire and once decompressed (gzip or snappy). Default 20MiB. */
  max_request_body_size: number;
  tls: TlsServerConfig | null;
  /** Keep every request header with the payload (X-Scope-OrgID is kept either way). */
  include_metadata: boolean;
}

export interface LokiReceiverConfig {
  protocols: { http: LokiHttpConfig | null; grpc: { endpoint: string } | null };
  /** The entry's own time as the record time. Default true (the Collector: false); see README. */
  use_incoming_timestamp: boolean;
}

export const lokiHttpDefaults = (): LokiHttpConfig => ({
  endpoint: '127.0.0.1:3500',
  max_request_body_size: 20 * 1024 * 1024,
  tls: null,
  include_metadata: false,
  ...serverAuthDefaults(), ...receiveLimitDefaults(),
});

export const defaultLokiConfig = (): LokiReceiverConfig => ({ protocols: { http: null, grpc: null }, use_incoming_timestamp: true });

export const lokiSchema = s.object({
  protocols: s.object({
    http: s.section(
      s.object({ endpoint: s.endpoint(), max_request_body_size: s.bytes(), tls: tlsServerSchema, include_metadata: s.bool(), ...serverAuthSchemaFields, ...receiveLimitSchemaFields }),
      lokiHttpDefaults,
    ),
    grpc: s.section(s.object({ endpoint: s.string() }), () => ({ endpoint: '' })),
  }),
  use_incoming_timestamp: s.bool(),
});

export function validateLoki(c: LokiReceiverConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  if (c.protocols.grpc) {
    errors.push({ path: 'protocols.grpc', message: 'not supported: Promtail, Grafana Alloy and the Loki client libraries push over HTTP; use protocols.http' });
  }
  const h = c.protocols.http;
  if (!h) {
    if (!c.protocols.grpc) errors.push({ path: 'protocols', message: 'must specify protocols.http' });
    return errors;
  }
  return [...errors, ...validateTlsServer(h.tls, 'protocols.http.tls'), ...validateServerAuth(h, 'protocols.http'), ...validateReceiveLimits(h, 'protocols.http')];
}
