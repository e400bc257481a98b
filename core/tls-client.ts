/**
 * A client's TLS settings, as the Collector's `configtls.ClientConfig` spells
 * them (the kafka receiver and exporter, the otlp and otlphttp exporters,
 * the Kafka witness): the config, its schema fields, and the certificate
 * files read at start into connection options.
 */
import { readFile } from 'node:fs/promises';
import { s, type Schema } from './config/schema.ts';

export interface ClientTlsConfig {
  /** true = plaintext (TLS off). Default false: TLS is on unless said otherwise, as in the Collector. */
  insecure: boolean;
  /** PEM CA bundle the server's certificate must chain to; default the system roots. */
  ca_file: string | null;
  /** Client certificate and key (PEM) for mutual TLS. */
  cert_file: string | null;
  key_file: string | null;
  /** Do not verify the server's certificate. Default false. */
  insecure_skip_verify: boolean;
  /** Name to verify the server's certificate against (SNI), instead of the endpoint's host. */
  server_name_override: string | null;
  /** Oldest TLS version accepted: 1.2 (default) or 1.3. */
  min_version: '1.2' | '1.3';
}

export const clientTlsDefaults = (): ClientTlsConfig => ({
  insecure: false,
  ca_file: null,
  cert_file: null,
  key_file: null,
  insecure_skip_verify: false,
  server_name_override: null,
  min_version: '1.2',
});

/** The schema fields of ClientTlsConfig (a component adds its own refusals beside them). */
export const clientTlsFields: Record<string, Schema> = {
  insecure: s.bool(),
  ca_file: s.optional(s.string({ nonEmpty: true })),
  cert_file: s.optional(s.string({ nonEmpty: true })),
  key_file: s.optional(s.string({ nonEmpty: true })),
  insecure_skip_verify: s.bool(),
  server_name_override: s.optional(s.string({ nonEmpty: true })),
  min_version: s.string({ enum: ['1.2', '1.3'] }),
};

/** The files read: node:tls connection options (https.Agent, tls.connect, kafkajs), and what gRPC's credentials take. */
export interface ClientTlsOptions {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  rejectUnauthorized: boolean;
  servername?: string;
  minVersion: 'TLSv1.2' | 'TLSv1.3';
}

/** Reads the files (I/O: call at start, never in validation); null when `insecure` (plaintext). A missing file fails with its config key. */
export async function loadClientTls(c: ClientTlsConfig, path = 'tls'): Promise<ClientTlsOptions | null> {
  if (c.insecure) return null;
  const read = async (file: string | null, key: string) => {
    if (!file) return undefined;
    try {
      return await readFile(file);
    } catch (err) {
      throw new Error(`${path}.${key}: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
    }
  };
  return {
    ca: await read(c.ca_file, 'ca_file'),
    cert: await read(c.cert_file, 'cert_file'),
    key: await read(c.key_file, 'key_file'),
    rejectUnauthorized: !c.insecure_skip_verify,
    ...(c.server_name_override ? { servername: c.server_name_override } : {}),
    minVersion: c.min_version === '1.3' ? 'TLSv1.3' : 'TLSv1.2',
  };
}
