/**
 * The otlp exporter's config: the Collector's otlp exporter keys (configgrpc
 * client + exporterhelper), see lib/otlp-export/config.ts. `endpoint` is
 * host:port (or an http(s):// URL, whose scheme decides TLS).
 */
import { s, type ConfigError } from '../../core/config/schema.ts';
import { helperSchemaFields } from '../../core/exporter-helper-config.ts';
import { otlpClientDefaults, otlpClientSchemaFields, validateOtlpClient, type OtlpClientConfig } from '../../lib/otlp-export/config.ts';

export type OtlpExporterConfig = OtlpClientConfig;

export const defaultOtlpExporterConfig = (): OtlpExporterConfig => otlpClientDefaults('127.0.0.1:4317');

export const otlpExporterSchema = s.object({ ...helperSchemaFields, ...otlpClientSchemaFields });

export function validateOtlpExporter(c: OtlpExporterConfig): ConfigError[] {
  const errors = validateOtlpClient(c);
  if (!/^(https?:\/\/)?(\[[0-9a-fA-F:]+\]|[^:/\s]+):\d+\/?$/.test(c.endpoint)) {
    errors.push({ path: 'endpoint', message: `expected host:port (or http(s)://host:port), got ${JSON.stringify(c.endpoint)}` });
  }
  return errors;
}
