/**
 * gRPC plumbing shared by the gRPC receivers (OTLP, Jaeger): raw-bytes
 * method definitions (our own codecs decode inside the handler, so a bad
 * message becomes INVALID_ARGUMENT with a reason), mapping a pipeline failure
 * to a status, binding, and a bounded graceful stop.
 */
import * as grpc from '@grpc/grpc-js';
import { statusFor } from './errors.ts';
import { parseEndpoint } from './net.ts';
import { grpcCredentials, type TlsMaterial } from './tls.ts';
import { guardGrpc } from './grpc-guard.ts';
import { receiveLimitDefaults, type ReceiveLimits } from './inflight.ts';

const raw = (b: Buffer) => b;
const toBuffer = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength);

/** A unary method whose request and response stay bytes. */
export function rawUnaryMethod(path: string): grpc.MethodDefinition<Buffer, Uint8Array> {
  return {
    path,
    requestStream: false,
    responseStream: false,
    requestSerialize: raw,
    requestDeserialize: raw,
    responseSerialize: toBuffer,
    responseDeserialize: raw,
  };
}

/** The status for a pipeline failure (core/errors.ts), with a retry-after hint. */
export function grpcError(err: unknown): Partial<grpc.StatusObject> {
  const st = statusFor(err);
  const metadata = new grpc.Metadata();
  if (st.retryAfterSeconds) metadata.set('retry-after', String(st.retryAfterSeconds));
  return { code: st.grpc, details: st.message, metadata };
}

/**
 * Binds `server` on a host:port endpoint (TLS when given), with the receive
 * bounds of `limits` (core/grpc-guard.ts); resolves with the bound address.
 */
export async function bindGrpc(
  server: grpc.Server,
  endpoint: string,
  tls: TlsMaterial | null = null,
  limits: ReceiveLimits = receiveLimitDefaults(),
): Promise<string> {
  const { host, port } = parseEndpoint(endpoint);
  const bound = await new Promise<number>((resolve, reject) =>
    server.bindAsync(`${host.includes(':') ? `[${host}]` : host}:${port}`, grpcCredentials(tls), (err, p) =>
      err ? reject(new Error(`cannot listen on ${endpoint}: ${err.message}`)) : resolve(p),
    ),
  );
  guardGrpc(server, limits);
  return `${host}:${bound}`;
}

/** Stops taking calls and waits for those in flight, at most `graceMs`. */
export function stopGrpc(server: grpc.Server, graceMs = 10_000): Promise<void> {
  return new Promise<void>((resolve) => {
    const t = setTimeout(() => {
      server.forceShutdown();
      resolve();
    }, graceMs);
    server.tryShutdown(() => {
      clearTimeout(t);
      resolve();
    });
  });
}
