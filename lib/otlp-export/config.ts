/**
 * What the otlp (gRPC) and otlphttp exporters share of their config, spelled
 * as the Collector's configgrpc / confighttp client settings: `endpoint`,
 * `tls` (configtls client: on unless `insecure`), `compression`, `headers`,
 * `auth.authenticator`, plus the exporter helper's `timeout`,
 * `retry_on_failure` and `sending_queue`.
 */
import { s, type ConfigError, type Schema } from '../../core/config/schema.ts';
import { helperDefaults, type ExporterHelperConfig } from '../../core/exporter-helper-config.ts';
import { clientTlsDefaults, clientTlsFields, type ClientTlsConfig } from '../../core/tls-client.ts';

export type { ClientTlsConfig } from '../../core/tls-client.ts';

export type Compression = 'gzip' | 'none';

export interface OtlpClientConfig extends ExporterHelperConfig {
  endpoint: string;
  tls: ClientTlsConfig;
  /** Default gzip, as the Collector's. */
  compression: Compression;
  /** Static headers (gRPC metadata) on every request. */
  headers: Record<string, string>;
  /** A client authenticator extension (bearertokenauth); null = none. */
  auth: { authenticator: string } | null;
}

export function otlpClientDefaults(endpoint: string): OtlpClientConfig {
  // The gateway is the durable store: retry until shutdown (a persistent queue
  // then keeps what is left), as the agent must not drop what it tailed.
  return { ...helperDefaults({ timeout: 5_000, retry: { initial_interval: 1_000, max_elapsed_time: 0 } }), endpoint, tls: clientTlsDefaults(), compression: 'gzip', headers: {}, auth: null };
}

const COMPRESSIONS = ['gzip', 'none', ''];

export const otlpClientSchemaFields: Record<string, Schema> = {
  endpoint: s.string({ nonEmpty: true }),
  tls: s.object({
    ...clientTlsFields,
    ca_pem: s.refused('not offered: put the CA in a file and name it in ca_file'),
    cert_pem: s.refused('not offered: use cert_file'),
    key_pem: s.refused('not offered: use key_file'),
    max_version: s.refused('not offered: the highest version both sides support is used'),
    cipher_suites: s.refused('not offered: Node.js\' default cipher list is used'),
    reload_interval: s.refused('not offered: certificate files are read at start'),
  }),
  compression: s.string({ enum: COMPRESSIONS }),
  headers: s.map(s.string()),
  auth: s.section(s.object({ authenticator: s.string({ nonEmpty: true }) }), () => ({ authenticator: '' })),
  balancer_name: s.refused('not offered: one connection to the endpoint (pick_first)', (v) => v === 'pick_first'),
  write_buffer_size: s.refused('not offered'),
  read_buffer_size: s.refused('not offered'),
  wait_for_ready: s.refused('only false is accepted: a failed attempt is retried by retry_on_failure', (v) => v === false),
  keepalive: s.refused('not offered: connections use the transport\'s defaults'),
};

export function validateOtlpClient(c: OtlpClientConfig): ConfigError[] {
  const errors: ConfigError[] = [];
  if (!!c.tls.cert_file !== !!c.tls.key_file) errors.push({ path: 'tls', message: 'cert_file and key_file must be given together' });
  for (const k of Object.keys(c.headers)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) errors.push({ path: `headers.${k}`, message: 'not a valid header name' });
    else if (/[\r\n\0]/.test(c.headers[k]!)) errors.push({ path: `headers.${k}`, message: 'a header value cannot hold CR, LF or NUL' });
  }
  if (c.auth && !c.auth.authenticator) errors.push({ path: 'auth.authenticator', message: 'required when auth is set' });
  return errors;
}

/** `''` is the Collector's spelling of none. */
export const compressionOf = (c: OtlpClientConfig): Compression => (c.compression === 'gzip' ? 'gzip' : 'none');
