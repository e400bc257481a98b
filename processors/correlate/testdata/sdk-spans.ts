/**
 * Spans made by the real OpenTelemetry JS SDK, serialized by otlp-transformer
 * and decoded by our OTLP codec: what the pipeline sees from an instrumented
 * service and from Envoy's tracer (which records `guid:x-request-id`).
 */
import { randomBytes } from 'node:crypto';
import { ROOT_CONTEXT, SpanKind as ApiSpanKind, SpanStatusCode, trace, type HrTime } from '@opentelemetry/api';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { InMemorySpanExporter, SimpleSpanProcessor, TracerProvider, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { ProtobufTraceSerializer } from '@opentelemetry/otlp-transformer';
import { decodeTracesProto } from '../../../core/otlp/index.ts';
import type { TracesData } from '../../../core/model.ts';

export interface SpanSpec {
  service: string;
  name: string;
  kind: 'server' | 'client' | 'internal';
  start: HrTime;
  end: HrTime;
  /** Index into the earlier specs of the same call; undefined = root. */
  parent?: number;
  error?: boolean;
  attributes?: Record<string, string | number>;
}

const KINDS = { server: ApiSpanKind.SERVER, client: ApiSpanKind.CLIENT, internal: ApiSpanKind.INTERNAL };

/** Spans of one trace, by the SDK; returns the decoded payload and the span ids in spec order. */
export function sdkTrace(traceId: string, specs: SpanSpec[]): { data: TracesData; spanIds: string[] } {
  const exporter = new InMemorySpanExporter();
  const providers = new Map<string, TracerProvider>();
  const provider = (service: string) => {
    let p = providers.get(service);
    if (!p) {
      p = new TracerProvider({
        resource: resourceFromAttributes({ 'service.name': service }),
        spanProcessors: [new SimpleSpanProcessor({ exporter })],
        // Roots get the trace id we ask for; span ids stay the SDK's own.
        idGenerator: { generateTraceId: () => traceId, generateSpanId: () => randomBytes(8).toString('hex') },
      });
      providers.set(service, p);
    }
    return p;
  };
  const made: ReadableSpan[] = [];
  const ctxs: ReturnType<typeof trace.setSpan>[] = [];
  for (const spec of specs) {
    const tracer = provider(spec.service).getTracer('fixture');
    const ctx = spec.parent !== undefined ? ctxs[spec.parent]! : ROOT_CONTEXT;
    const span = tracer.startSpan(spec.name, { kind: KINDS[spec.kind], startTime: spec.start, attributes: spec.attributes }, ctx);
    if (spec.error) span.setStatus({ code: SpanStatusCode.ERROR, message: 'boom' });
    span.end(spec.end);
    ctxs.push(trace.setSpan(ROOT_CONTEXT, span));
    made.push(exporter.getFinishedSpans().at(-1)!);
  }
  const data = decodeTracesProto(ProtobufTraceSerializer.serializeRequest(made)!);
  return { data, spanIds: made.map((s) => s.spanContext().spanId) };
}
