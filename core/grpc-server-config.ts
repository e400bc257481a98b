/**
 * The Collector's gRPC server settings (configgrpc) that grpc-js can honour,
 * shared by the OTLP and Jaeger gRPC receivers: `max_concurrent_streams` and
 * `keepalive.server_parameters`. In a mesh, `max_connection_age` is the one
 * that matters: sidecars hold one HTTP/2 connection for hours, so without it
 * new gateway replicas get no traffic; an aged connection is closed with a
 * GOAWAY and the client reconnects (through the load balancer).
 */
import { s, type ConfigError, type Schema } from './config/schema.ts';

export interface KeepaliveServerParameters {
  /** Close a connection idle this long (ms); 0 = never. */
  max_connection_idle: number;
  /** Close a connection after this long (ms), whatever it does; 0 = never. */
  max_connection_age: number;
  /** Calls in flight get this long (ms) to finish after max_connection_age; 0 = no limit. */
  max_connection_age_grace: number;
  /** Ping a quiet client this often (ms); 0 = gRPC's default (2h). */
  time: number;
  /** Close the connection when a ping is not answered within this (ms); 0 = gRPC's default (20s). */
  timeout: number;
}

export interface GrpcServerSettings {
  /** Concurrent calls per connection; 0 = no limit. Default 100. */
  max_concurrent_streams: number;
  keepalive: { server_parameters: KeepaliveServerParameters; enforcement_policy: unknown } | null;
}

const keepaliveDefaults = () => ({
  server_parameters: { max_connection_idle: 0, max_connection_age: 0, max_connection_age_grace: 0, time: 0, timeout: 0 },
  enforcement_policy: undefined,
});

export const grpcServerSchemaFields: Record<string, Schema> = {
  max_concurrent_streams: s.int({ min: 0 }),
  keepalive: s.section(
    s.object({
      server_parameters: s.object({
        max_connection_idle: s.duration(),
        max_connection_age: s.duration(),
        max_connection_age_grace: s.duration(),
        time: s.duration(),
        timeout: s.duration(),
      }),
      enforcement_policy: s.any(),
    }),
    keepaliveDefaults,
  ),
};

// 100 concurrent calls per connection (HTTP/2's recommended minimum, and what most servers
// use): with 4 MiB messages, a connection can hold at most ~400 MiB of requests being
// received, which the in-flight bounds (core/inflight.ts) cut further per client.
export const grpcServerDefaults = (): GrpcServerSettings => ({ max_concurrent_streams: 100, keepalive: null });

export function validateGrpcServer(c: GrpcServerSettings, path: string): ConfigError[] {
  if (c.keepalive?.enforcement_policy === undefined) return [];
  return [{ path: `${path}.keepalive.enforcement_policy`, message: 'not supported: grpc-js does not police client pings; remove it (server_parameters work)' }];
}

/** grpc-js server options for these settings. */
export function grpcServerOptions(c: GrpcServerSettings): Record<string, number> {
  const o: Record<string, number> = {};
  if (c.max_concurrent_streams > 0) o['grpc.max_concurrent_streams'] = c.max_concurrent_streams;
  const k = c.keepalive?.server_parameters;
  if (k) {
    if (k.max_connection_idle > 0) o['grpc.max_connection_idle_ms'] = k.max_connection_idle;
    if (k.max_connection_age > 0) o['grpc.max_connection_age_ms'] = k.max_connection_age;
    if (k.max_connection_age_grace > 0) o['grpc.max_connection_age_grace_ms'] = k.max_connection_age_grace;
    if (k.time > 0) o['grpc.keepalive_time_ms'] = k.time;
    if (k.timeout > 0) o['grpc.keepalive_timeout_ms'] = k.timeout;
  }
  return o;
}
