/** A service instrumented with the real OTel SDK, exporting OTLP/HTTP (protobuf) to a pipeline under test. */
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';

export interface SdkSender {
  logs: LoggerProvider;
  tracing: TracerProvider;
  /** Exports everything emitted so far. */
  flush(): Promise<void>;
  shutdown(): Promise<void>;
}

/** `base`: http://host:port of an OTLP HTTP receiver; `resource`: the service's resource attributes. */
export function sdkSender(base: string, resource: Record<string, string>, headers: Record<string, string> = {}): SdkSender {
  const r = resourceFromAttributes(resource);
  const logs = new LoggerProvider({ resource: r, processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `${base}/v1/logs`, headers }) })] });
  const tracing = new TracerProvider({ resource: r, spanProcessors: [new BatchSpanProcessor({ exporter: new OTLPTraceExporter({ url: `${base}/v1/traces`, headers }) })] });
  return {
    logs,
    tracing,
    flush: async () => void (await Promise.all([logs.forceFlush(), tracing.forceFlush()])),
    shutdown: async () => void (await Promise.all([logs.shutdown(), tracing.shutdown()])),
  };
}
