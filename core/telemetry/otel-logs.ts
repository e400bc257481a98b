/**
 * The process's own logs also as OTLP log records, configured as the
 * Collector configures its own (`service.telemetry.logs.processors`, the
 * OpenTelemetry declarative-configuration shape):
 *
 *   service:
 *     telemetry:
 *       logs:
 *         processors:
 *           - batch:
 *               exporter:
 *                 otlp: { protocol: http/protobuf, endpoint: https://logs.example:4318 }
 *
 * `batch` or `simple` processors; `otlp` exporters with protocol
 * `http/protobuf` (endpoint: the base URL, `/v1/logs` is appended unless the
 * path is given), `http/json`, or `grpc`; optional `headers` ({name: value}).
 * Built on the OpenTelemetry JS SDK (sdk-logs and its OTLP exporters), so the
 * records are what any OTel backend expects: severity, body = the message,
 * attributes = the line's fields, resource service.name=trailhouse. Pointing
 * it at this process's own OTLP receiver is allowed: lines are one per
 * condition, not per record, so the loop is bounded.
 */
import { Metadata } from '@grpc/grpc-js';
import type { SeverityNumber } from '@opentelemetry/api-logs';
import type * as Resources from '@opentelemetry/resources';
import type * as SdkLogs from '@opentelemetry/sdk-logs';
import type { LogRecordExporter, LogRecordProcessor } from '@opentelemetry/sdk-logs';
import type * as GrpcLogs from '@opentelemetry/exporter-logs-otlp-grpc';
import type * as HttpLogs from '@opentelemetry/exporter-logs-otlp-http';
import type * as ProtoLogs from '@opentelemetry/exporter-logs-otlp-proto';
import { lazyRequire } from '../lazy-require.ts';

// The SDK loads only when `service.telemetry.logs.processors` asks for it (core/lazy-require.ts).
const resources = lazyRequire<typeof Resources>('@opentelemetry/resources');
const sdkLogs = lazyRequire<typeof SdkLogs>('@opentelemetry/sdk-logs');
const grpcLogs = lazyRequire<typeof GrpcLogs>('@opentelemetry/exporter-logs-otlp-grpc');
const httpLogs = lazyRequire<typeof HttpLogs>('@opentelemetry/exporter-logs-otlp-http');
const protoLogs = lazyRequire<typeof ProtoLogs>('@opentelemetry/exporter-logs-otlp-proto');
import type { LogProcessorSpec, OtlpExporterSpec } from './otel-logs-config.ts';
import type { Level, LogFields } from './logger.ts';

function exporterFor(e: OtlpExporterSpec): LogRecordExporter {
  if (e.protocol === 'grpc') {
    const metadata = new Metadata();
    for (const [k, v] of Object.entries(e.headers)) metadata.set(k, v);
    return new (grpcLogs().OTLPLogExporter)({ url: e.endpoint, metadata });
  }
  const u = new URL(e.endpoint);
  const url = u.pathname === '/' || u.pathname === '' ? new URL('/v1/logs', u).toString() : e.endpoint;
  return e.protocol === 'http/json' ? new (httpLogs().OTLPLogExporter)({ url, headers: e.headers }) : new (protoLogs().OTLPLogExporter)({ url, headers: e.headers });
}

/** api-logs' SeverityNumber values (the OpenTelemetry log data model's numbers). */
const SEVERITY: Record<Level, SeverityNumber> = {
  debug: 5 as SeverityNumber,
  info: 9 as SeverityNumber,
  warn: 13 as SeverityNumber,
  error: 17 as SeverityNumber,
};

/** A plain attribute value for a log field (nested values as JSON). */
function attr(v: unknown): string | number | boolean {
  if (typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Error) return `${v.name}: ${v.message}`;
  return JSON.stringify(v, (_k, x) => (typeof x === 'bigint' ? x.toString() : x)) ?? String(v);
}

export interface OtelLogSink {
  emit(level: Level, msg: string, fields: LogFields): void;
  shutdown(): Promise<void>;
}

export function otelLogSink(specs: LogProcessorSpec[], version: string): OtelLogSink {
  const processors: LogRecordProcessor[] = specs.map((s) =>
    s.kind === 'batch' ? new (sdkLogs().BatchLogRecordProcessor)({ exporter: exporterFor(s.exporter) }) : new (sdkLogs().SimpleLogRecordProcessor)({ exporter: exporterFor(s.exporter) }),
  );
  const provider = new (sdkLogs().LoggerProvider)({ resource: resources().resourceFromAttributes({ 'service.name': 'trailhouse', 'service.version': version }), processors });
  const logger = provider.getLogger('trailhouse', version);
  return {
    emit(level, msg, fields) {
      const attributes: Record<string, string | number | boolean> = {};
      for (const [k, v] of Object.entries(fields)) if (v !== undefined) attributes[k] = attr(v);
      logger.emit({ severityNumber: SEVERITY[level], severityText: level.toUpperCase(), body: msg, attributes });
    },
    shutdown: () => provider.shutdown(),
  };
}
