/**
 * `service.telemetry.logs.processors`: the shape the Collector uses for its
 * own logs (OpenTelemetry declarative configuration), checked here without
 * loading the SDK; core/telemetry/otel-logs.ts builds the exporters.
 */
import type { ConfigError } from '../config/schema.ts';

export interface OtlpExporterSpec {
  protocol: 'http/protobuf' | 'http/json' | 'grpc';
  endpoint: string;
  headers: Record<string, string>;
}

export interface LogProcessorSpec {
  kind: 'batch' | 'simple';
  exporter: OtlpExporterSpec;
}

const PROTOCOLS = ['http/protobuf', 'http/json', 'grpc'] as const;

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Checks `service.telemetry.logs.processors` (decoded as any) and returns the specs, or pushes errors. */
export function parseLogProcessors(raw: unknown, path: string, errors: ConfigError[]): LogProcessorSpec[] {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    errors.push({ path, message: 'expected a list like [{batch: {exporter: {otlp: {protocol: http/protobuf, endpoint: ...}}}}]' });
    return [];
  }
  const out: LogProcessorSpec[] = [];
  raw.forEach((item, i) => {
    const at = `${path}[${i}]`;
    const keys = isMap(item) ? Object.keys(item) : [];
    const kind = keys[0];
    if (keys.length !== 1 || (kind !== 'batch' && kind !== 'simple')) {
      errors.push({ path: at, message: 'expected one of batch or simple' });
      return;
    }
    const body = (item as Record<string, unknown>)[kind];
    const exporter = isMap(body) ? body.exporter : undefined;
    const otlp = isMap(exporter) && Object.keys(exporter).length === 1 ? exporter.otlp : undefined;
    if (!isMap(otlp)) {
      errors.push({ path: `${at}.${kind}.exporter`, message: 'expected {otlp: {protocol, endpoint}} (the only exporter offered)' });
      return;
    }
    const ep = `${at}.${kind}.exporter.otlp`;
    for (const k of Object.keys(otlp)) {
      if (!['protocol', 'endpoint', 'headers'].includes(k)) errors.push({ path: `${ep}.${k}`, message: 'unknown key (valid keys: protocol, endpoint, headers)' });
    }
    const protocol = otlp.protocol ?? 'http/protobuf';
    if (typeof protocol !== 'string' || !(PROTOCOLS as readonly string[]).includes(protocol)) {
      errors.push({ path: `${ep}.protocol`, message: `expected one of ${PROTOCOLS.join(', ')}, got ${JSON.stringify(protocol)}` });
      return;
    }
    const endpoint = otlp.endpoint;
    let url: URL | undefined;
    try {
      url = typeof endpoint === 'string' ? new URL(endpoint) : undefined;
    } catch {
      /* below */
    }
    if (!url || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
      errors.push({ path: `${ep}.endpoint`, message: `expected an http:// or https:// URL, got ${JSON.stringify(endpoint)}` });
      return;
    }
    const headers: Record<string, string> = {};
    if (otlp.headers !== undefined) {
      if (!isMap(otlp.headers)) errors.push({ path: `${ep}.headers`, message: 'expected a mapping of header names to values' });
      else for (const [k, v] of Object.entries(otlp.headers)) headers[k] = String(v);
    }
    out.push({ kind, exporter: { protocol: protocol as OtlpExporterSpec['protocol'], endpoint: String(endpoint), headers } });
  });
  return out;
}
