/**
 * OTLP codecs: protobuf and JSON, requests and responses, for logs and traces,
 * to and from the model in core/model.ts. Decoders throw OtlpDecodeError
 * (a PermanentError: HTTP 400 / gRPC INVALID_ARGUMENT) on any bad input.
 */
export { OtlpDecodeError } from './errors.ts';
export { decodeLogsProto, encodeLogsProto } from './logs-proto.ts';
export { decodeTracesProto, encodeTracesProto } from './traces-proto.ts';
export { decodeLogsJson, encodeLogsJson } from './logs-json.ts';
export { decodeTracesJson, encodeTracesJson } from './traces-json.ts';
export {
  decodeExportResponse,
  decodeExportResponseJson,
  encodeExportResponse,
  encodeExportResponseJson,
} from './response.ts';
export type { ExportResult } from './response.ts';
