/**
 * The otlphttp exporter's config: the Collector's otlphttp exporter keys
 * (confighttp client + exporterhelper, lib/otlp-export/config.ts), with
 * `endpoint` the base URL (`/v1/logs`, `/v1/traces` appended),
 * `logs_endpoint` / `traces_endpoint` to override one signal's full URL, and
 * `encoding: proto|json`. An http:// URL is plaintext whatever `tls` says.
 */
import { s, type ConfigError } from '../../core/config/schema.ts';
import { helperSchemaFields } from '../../core/exporter-helper-config.ts';
import { otlpClientDefaults, otlpClientSchemaFields, validateOtlpClient, type OtlpClientConfig } from '../../lib/otlp-export/config.ts';

export interface OtlpHttpExporterConfig extends OtlpClientConfig {
  logs_endpoint: string | null;
  traces_endpoint: string | null;
  /** proto (default) or json. */
  encoding: 'proto' | 'json';
}

export const defaultOtlpHttpExporterConfig = (): OtlpHttpExporterConfig => ({
  ...otlpClientDefaults('http://127.0.0.1:4318'),
  logs_endpoint: null,
  traces_endpoint: null,
  encoding: 'proto',
});

export const otlpHttpExporterSchema = s.object({
  ...helperSchemaFields,
  ...otlpClientSchemaFields,
  logs_endpoint: s.optional(s.string({ nonEmpty: true })),
  traces_endpoint: s.optional(s.string({ nonEmpty: true })),
  metrics_endpoint: s.optional(s.string()),
  encoding: s.string({ enum: ['proto', 'json'] }),
  max_idle_conns: s.refused('not offered: connections are kept alive and reused by Node.js\' agent'),
  idle_conn_timeout: s.refused('not offered'),
  proxy_url: s.refused('not offered: no HTTP proxy support'),
});

/** The full URL a signal is posted to. */
export function urlFor(c: OtlpHttpExporterConfig, signal: 'logs' | 'traces'): string {
  const own = signal === 'logs' ? c.logs_endpoint : c.traces_endpoint;
  if (own) return own;
  return `${c.endpoint.replace(/\/+$/, '')}/v1/${signal}`;
}

export function validateOtlpHttpExporter(c: OtlpHttpExporterConfig): ConfigError[] {
  const errors = validateOtlpClient(c);
  for (const [path, url] of [['endpoint', c.endpoint], ['logs_endpoint', c.logs_endpoint], ['traces_endpoint', c.traces_endpoint]] as const) {
    if (url === null) continue;
    let u: URL | undefined;
    try {
      u = new URL(url);
    } catch {
      /* reported below */
    }
    if (!u || (u.protocol !== 'http:' && u.protocol !== 'https:')) errors.push({ path, message: `expected an http:// or https:// URL, got ${JSON.stringify(url)}` });
  }
  return errors;
}
