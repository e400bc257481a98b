import { s, type ConfigError } from '../../core/config/schema.ts';
import { corsSchema, type CorsConfig } from '../../core/cors.ts';
import { serverAuthDefaults, serverAuthSchemaFields, validateServerAuth, type ServerAuthSettings } from '../../core/auth-config.ts';
import { grpcServerDefaults, grpcServerSchemaFields, validateGrpcServer, type GrpcServerSettings } from '../../core/grpc-server-config.ts';
import { tlsServerSchema, validateTlsServer, type TlsServerConfig } from '../../core/tls.ts';
import { receiveLimitDefaults, receiveLimitSchemaFields, validateReceiveLimits, type ReceiveLimits } from '../../core/inflight.ts';

export interface GrpcProtocolConfig extends GrpcServerSettings, ServerAuthSettings, ReceiveLimits {
  /** host:port to listen on. Default 127.0.0.1:4317. */
  endpoint: string;
  /** Largest accepted request, in MiB. Default 4 (gRPC's and the Collector's default). */
  max_recv_msg_size_mib: number;
  /** Serve TLS (mutual with client_ca_file); null = plaintext. */
  tls: TlsServerConfig | null;
  /** Keep the request's gRPC metadata with the payload (batch metadata_keys, attributes from_context). */
  include_metadata: boolean;
}

export interface HttpProtocolConfig extends ServerAuthSettings, ReceiveLimits {
  /** host:port to listen on. Default 127.0.0.1:4318. */
  endpoint: string;
  /** Largest accepted request body, compressed or not. Default 20MiB. */
  max_request_body_size: number;
  logs_url_path: string;
  traces_url_path: string;
  /** Serve TLS (mutual with client_ca_file); null = plaintext. */
  tls: TlsServerConfig | null;
  /** CORS for browser senders; null = off. */
  cors: CorsConfig | null;
  /** Keep the request's headers with the payload (batch metadata_keys, attributes from_context). */
  include_metadata: boolean;
}

export interface OtlpReceiverConfig {
  protocols: {
    grpc: GrpcProtocolConfig | null;
    http: HttpProtocolConfig | null;
  };
}

export const grpcDefaults = (): GrpcProtocolConfig => ({ endpoint: '127.0.0.1:4317', max_recv_msg_size_mib: 4, tls: null, include_metadata: false, ...grpcServerDefaults(), ...serverAuthDefaults(), ...receiveLimitDefaults() });
export const httpDefaults = (): HttpProtocolConfig => ({
  endpoint: '127.0.0.1:4318',
  max_request_body_size: 20 * 1024 * 1024,
  logs_url_path: '/v1/logs',
  traces_url_path: '/v1/traces',
  tls: null,
  cors: null,
  include_metadata: false,
  ...serverAuthDefaults(), ...receiveLimitDefaults(),
});

export const otlpSchema = s.object({
  protocols: s.object({
    grpc: s.section(s.object({ endpoint: s.endpoint(), max_recv_msg_size_mib: s.int({ min: 1 }), tls: tlsServerSchema, include_metadata: s.bool(), ...grpcServerSchemaFields, ...serverAuthSchemaFields, ...receiveLimitSchemaFields }), grpcDefaults),
    http: s.section(
      s.object({
        endpoint: s.endpoint(),
        max_request_body_size: s.bytes(),
        logs_url_path: s.string({ nonEmpty: true }),
        traces_url_path: s.string({ nonEmpty: true }),
        tls: tlsServerSchema,
        cors: corsSchema,
        include_metadata: s.bool(),
        ...serverAuthSchemaFields, ...receiveLimitSchemaFields,
      }),
      httpDefaults,
    ),
  }),
});

export const defaultOtlpConfig = (): OtlpReceiverConfig => ({ protocols: { grpc: null, http: null } });

export function validateOtlp(c: OtlpReceiverConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  if (!c.protocols.grpc && !c.protocols.http) {
    errors.push({ path: 'protocols', message: 'must specify at least one protocol (grpc or http)' });
  }
  if (c.protocols.grpc) errors.push(...validateGrpcServer(c.protocols.grpc, 'protocols.grpc'), ...validateServerAuth(c.protocols.grpc, 'protocols.grpc'), ...validateReceiveLimits(c.protocols.grpc, 'protocols.grpc'));
  if (c.protocols.http) errors.push(...validateServerAuth(c.protocols.http, 'protocols.http'), ...validateReceiveLimits(c.protocols.http, 'protocols.http'));
  errors.push(...validateTlsServer(c.protocols.grpc?.tls ?? null, 'protocols.grpc.tls'), ...validateTlsServer(c.protocols.http?.tls ?? null, 'protocols.http.tls'));
  const h = c.protocols.http;
  if (h) {
    for (const k of ['logs_url_path', 'traces_url_path'] as const) {
      if (!h[k].startsWith('/')) errors.push({ path: `protocols.http.${k}`, message: 'must start with /' });
    }
  }
  return errors;
}
