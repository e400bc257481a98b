/**
 * Loads the vendored .proto files into protobufjs: an independent reference
 * codec for tests and benchmarks (never used at runtime).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface ReferenceTypes {
  logsRequest: protobuf.Type;
  tracesRequest: protobuf.Type;
  logsResponse: protobuf.Type;
  tracesResponse: protobuf.Type;
}

/** The .proto files loaded (with what they import), relative to this folder. */
export const REFERENCE_FILES = [
  'opentelemetry/proto/collector/logs/v1/logs_service.proto',
  'opentelemetry/proto/collector/trace/v1/trace_service.proto',
  'google/rpc/status.proto',
] as const;

/**
 * All the vendored messages, resolved (scripts/gen-otlp-wire.ts reads its
 * field numbers from here). `keepCase` keeps the .proto's snake_case field
 * names instead of protobufjs' camelCase.
 */
export function loadReferenceRoot(keepCase = false): protobuf.Root {
  const root = new protobuf.Root();
  root.resolvePath = (_origin, target) => path.join(here, target);
  root.loadSync([...REFERENCE_FILES], { keepCase });
  root.resolveAll();
  return root;
}

export function loadReference(): ReferenceTypes {
  const root = loadReferenceRoot();
  return {
    logsRequest: root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest'),
    tracesRequest: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest'),
    logsResponse: root.lookupType('opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse'),
    tracesResponse: root.lookupType('opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse'),
  };
}
