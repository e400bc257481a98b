/** The zipkin receiver's config, as the Collector's zipkinreceiver (plus a body size limit). */
import { s, type ConfigError } from '../../core/config/schema.ts';
import { serverAuthDefaults, serverAuthSchemaFields, validateServerAuth, type ServerAuthSettings } from '../../core/auth-config.ts';
import { tlsServerSchema, validateTlsServer, type TlsServerConfig } from '../../core/tls.ts';
import { receiveLimitDefaults, receiveLimitSchemaFields, validateReceiveLimits, type ReceiveLimits } from '../../core/inflight.ts';

export interface ZipkinReceiverConfig extends ServerAuthSettings, ReceiveLimits {
  /** host:port for /api/v1/spans and /api/v2/spans. Default 127.0.0.1:9411. */
  endpoint: string;
  /** Turn tag strings that look like ints, doubles or bools into typed attributes. Default false. */
  parse_string_tags: boolean;
  /** Largest accepted body, compressed or not. Default 20MiB. */
  max_request_body_size: number;
  /** Serve TLS (mutual with client_ca_file); null = plaintext. */
  tls: TlsServerConfig | null;
  /** Keep the request's headers with the payload (batch metadata_keys, attributes from_context). */
  include_metadata: boolean;
}

export const defaultZipkinConfig = (): ZipkinReceiverConfig => ({
  endpoint: '127.0.0.1:9411',
  parse_string_tags: false,
  max_request_body_size: 20 * 1024 * 1024,
  tls: null,
  include_metadata: false,
  ...serverAuthDefaults(), ...receiveLimitDefaults(),
});

export const zipkinSchema = s.object({
  endpoint: s.endpoint(),
  parse_string_tags: s.bool(),
  max_request_body_size: s.bytes(),
  tls: tlsServerSchema,
  include_metadata: s.bool(),
  ...serverAuthSchemaFields, ...receiveLimitSchemaFields,
});

export function validateZipkin(c: ZipkinReceiverConfig): ConfigError[] {
  return [...validateTlsServer(c.tls, 'tls'), ...validateServerAuth(c, ''), ...validateReceiveLimits(c, '')];
}
