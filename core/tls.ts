/**
 * Server-side TLS for the receivers' listeners, spelled as the Collector's
 * configtls server settings: naming `tls` under a protocol turns TLS on;
 * `client_ca_file` additionally requires and verifies client certificates
 * (mutual TLS, as mesh workloads present their SPIFFE certificates).
 *
 *   receivers:
 *     otlp:
 *       protocols:
 *         grpc:
 *           endpoint: 0.0.0.0:4317
 *           tls: { cert_file: /certs/tls.crt, key_file: /certs/tls.key, client_ca_file: /certs/ca.crt }
 */
import { readFile } from 'node:fs/promises';
import * as grpc from '@grpc/grpc-js';
import { s, type ConfigError } from './config/schema.ts';

export interface TlsServerConfig {
  /** The server's certificate chain (PEM). */
  cert_file: string;
  /** Its private key (PEM). */
  key_file: string;
  /** CA bundle (PEM) client certificates must chain to; set = clients must present one. */
  client_ca_file: string | null;
  /** Oldest protocol version accepted. Default 1.2. */
  min_version: '1.2' | '1.3';
}

export const tlsServerDefaults = (): TlsServerConfig => ({ cert_file: '', key_file: '', client_ca_file: null, min_version: '1.2' });

/** The `tls` key of a listener: absent = plaintext. */
export const tlsServerSchema = s.section(
  s.object({
    cert_file: s.string({ nonEmpty: true }),
    key_file: s.string({ nonEmpty: true }),
    client_ca_file: s.optional(s.string({ nonEmpty: true })),
    min_version: s.string({ enum: ['1.2', '1.3'] }),
  }),
  tlsServerDefaults,
);

/** cert_file and key_file are required once `tls` is named. */
export function validateTlsServer(c: TlsServerConfig | null, path: string): ConfigError[] {
  if (!c) return [];
  const errors: ConfigError[] = [];
  if (!c.cert_file) errors.push({ path: `${path}.cert_file`, message: 'required when tls is set' });
  if (!c.key_file) errors.push({ path: `${path}.key_file`, message: 'required when tls is set' });
  return errors;
}

export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca: Buffer | null;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

/** Reads the files (at start, never during validation); a missing file fails with its config path. */
export async function loadTls(c: TlsServerConfig, path: string): Promise<TlsMaterial> {
  const read = async (file: string, key: string) => {
    try {
      return await readFile(file);
    } catch (err) {
      throw new Error(`${path}.${key}: cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
  };
  return {
    cert: await read(c.cert_file, 'cert_file'),
    key: await read(c.key_file, 'key_file'),
    ca: c.client_ca_file ? await read(c.client_ca_file, 'client_ca_file') : null,
    minVersion: c.min_version === '1.3' ? 'TLSv1.3' : 'TLSv1.2',
  };
}

/** Options for https.createServer: client certificates required and verified when a CA is given. */
export function httpsOptions(m: TlsMaterial) {
  return {
    cert: m.cert,
    key: m.key,
    minVersion: m.minVersion,
    ...(m.ca ? { ca: m.ca, requestCert: true, rejectUnauthorized: true } : {}),
  };
}

/** gRPC server credentials (grpc-js supports TLS 1.2+ as Node does). */
export function grpcCredentials(m: TlsMaterial | null): grpc.ServerCredentials {
  if (!m) return grpc.ServerCredentials.createInsecure();
  return grpc.ServerCredentials.createSsl(m.ca, [{ cert_chain: m.cert, private_key: m.key }], m.ca !== null);
}
