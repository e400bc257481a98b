/**
 * The jaeger receiver's config, shaped like the Collector's jaegerreceiver:
 * a protocol is enabled only when its key is present (`thrift_compact:` with
 * no value enables it with the defaults below); at least one is required.
 */
import { s, type ConfigError } from '../../core/config/schema.ts';
import { grpcServerDefaults, grpcServerSchemaFields, validateGrpcServer, type GrpcServerSettings } from '../../core/grpc-server-config.ts';
import { serverAuthDefaults, serverAuthSchemaFields, validateServerAuth, validateUdpExposure, type ServerAuthSettings } from '../../core/auth-config.ts';
import { tlsServerSchema, validateTlsServer, type TlsServerConfig } from '../../core/tls.ts';
import { receiveLimitDefaults, receiveLimitSchemaFields, validateReceiveLimits, type ReceiveLimits } from '../../core/inflight.ts';

export interface GrpcConfig extends GrpcServerSettings, ServerAuthSettings, ReceiveLimits {
  /** host:port for jaeger.api_v2.CollectorService/PostSpans. Default 127.0.0.1:14250. */
  endpoint: string;
  /** Largest accepted request, in MiB. Default 4 (gRPC's default). */
  max_recv_msg_size_mib: number;
  /** Serve TLS (mutual with client_ca_file); null = plaintext. */
  tls: TlsServerConfig | null;
  /** Keep the call's gRPC metadata with the payload (batch metadata_keys, attributes from_context). */
  include_metadata: boolean;
}

export interface ThriftHttpConfig extends ServerAuthSettings, ReceiveLimits {
  /** host:port for POST /api/traces. Default 127.0.0.1:14268. */
  endpoint: string;
  /** Largest accepted body, compressed or not. Default 20MiB. */
  max_request_body_size: number;
  /** Serve TLS (mutual with client_ca_file); null = plaintext. */
  tls: TlsServerConfig | null;
  /** Keep the request's headers with the payload. */
  include_metadata: boolean;
}

export interface UdpConfig {
  /** host:port to bind. Default 127.0.0.1:6831 (compact) / 127.0.0.1:6832 (binary). */
  endpoint: string;
  /** Packets waiting for a worker; beyond it packets are dropped and counted. Default 1000. */
  queue_size: number;
  /** Packets decoded and handed to the pipeline concurrently. Default 10. */
  workers: number;
  /** Larger datagrams are dropped and counted. Default 65000 (the Jaeger agent's). */
  max_packet_size: number;
  /**
   * SO_RCVBUF in bytes, so bursts arriving while the process is busy (a GC
   * pause, an insert) wait in the kernel instead of being dropped. The kernel
   * caps it at net.core.rmem_max. 0 keeps the OS default. Default 4MiB.
   */
  socket_buffer_size: number;
  /** UDP cannot authenticate: a non-loopback endpoint needs this true, on purpose. Default false. */
  insecure: boolean;
}

export interface JaegerReceiverConfig {
  protocols: {
    grpc: GrpcConfig | null;
    thrift_http: ThriftHttpConfig | null;
    thrift_compact: UdpConfig | null;
    thrift_binary: UdpConfig | null;
  };
}

export const grpcDefaults = (): GrpcConfig => ({ endpoint: '127.0.0.1:14250', max_recv_msg_size_mib: 4, tls: null, include_metadata: false, ...grpcServerDefaults(), ...serverAuthDefaults(), ...receiveLimitDefaults() });
export const thriftHttpDefaults = (): ThriftHttpConfig => ({ endpoint: '127.0.0.1:14268', max_request_body_size: 20 * 1024 * 1024, tls: null, include_metadata: false, ...serverAuthDefaults(), ...receiveLimitDefaults() });
const udpDefaults = (endpoint: string) => (): UdpConfig => ({
  endpoint,
  queue_size: 1000,
  workers: 10,
  max_packet_size: 65_000,
  socket_buffer_size: 4 * 1024 * 1024,
  insecure: false,
});
export const compactDefaults = udpDefaults('127.0.0.1:6831');
export const binaryDefaults = udpDefaults('127.0.0.1:6832');

const udpSchema = s.object({
  endpoint: s.endpoint(),
  queue_size: s.int({ min: 1 }),
  workers: s.int({ min: 1 }),
  max_packet_size: s.bytes(),
  socket_buffer_size: s.bytes(),
  insecure: s.bool(),
  // Accepted only to refuse it with the reason (validateJaeger): UDP carries no credentials.
  auth: s.any(),
});

export const jaegerSchema = s.object({
  protocols: s.object({
    grpc: s.section(s.object({ endpoint: s.endpoint(), max_recv_msg_size_mib: s.int({ min: 1 }), tls: tlsServerSchema, include_metadata: s.bool(), ...grpcServerSchemaFields, ...serverAuthSchemaFields, ...receiveLimitSchemaFields }), grpcDefaults),
    thrift_http: s.section(s.object({ endpoint: s.endpoint(), max_request_body_size: s.bytes(), tls: tlsServerSchema, include_metadata: s.bool(), ...serverAuthSchemaFields, ...receiveLimitSchemaFields }), thriftHttpDefaults),
    thrift_compact: s.section(udpSchema, compactDefaults),
    thrift_binary: s.section(udpSchema, binaryDefaults),
  }),
});

export const defaultJaegerConfig = (): JaegerReceiverConfig => ({
  protocols: { grpc: null, thrift_http: null, thrift_compact: null, thrift_binary: null },
});

export function validateJaeger(c: JaegerReceiverConfig): ConfigError[] {
  const p = c.protocols;
  const errors: ConfigError[] = [];
  if (!p.grpc && !p.thrift_http && !p.thrift_compact && !p.thrift_binary) {
    errors.push({ path: 'protocols', message: 'must specify at least one protocol (grpc, thrift_http, thrift_compact or thrift_binary)' });
  }
  if (p.grpc) errors.push(...validateGrpcServer(p.grpc, 'protocols.grpc'), ...validateServerAuth(p.grpc, 'protocols.grpc'), ...validateReceiveLimits(p.grpc, 'protocols.grpc'));
  if (p.thrift_http) errors.push(...validateServerAuth(p.thrift_http, 'protocols.thrift_http'), ...validateReceiveLimits(p.thrift_http, 'protocols.thrift_http'));
  errors.push(...validateTlsServer(p.grpc?.tls ?? null, 'protocols.grpc.tls'), ...validateTlsServer(p.thrift_http?.tls ?? null, 'protocols.thrift_http.tls'));
  for (const k of ['thrift_compact', 'thrift_binary'] as const) {
    const u = p[k];
    if (u && (u as { auth?: unknown }).auth !== undefined) {
      errors.push({ path: `protocols.${k}.auth`, message: 'UDP cannot authenticate (a datagram carries no credentials): use grpc or thrift_http with auth, or keep this port on loopback' });
    }
    if (u) errors.push(...validateUdpExposure(u, `protocols.${k}`));
    if (u && (u.max_packet_size < 1 || u.max_packet_size > 65_507)) {
      errors.push({ path: `protocols.${k}.max_packet_size`, message: `must be between 1 and 65507 (the largest UDP payload), got ${u.max_packet_size}` });
    }
  }
  return errors;
}
