/**
 * Payloads validated but not decoded (see core/model.ts lazyPayload): the
 * receiver's side of the gateway path, and the file queue's on replay.
 */
import { lazyPayload, type LogsData, type TracesData } from '../model.ts';
import { decodeLogsProto } from './logs-proto.ts';
import { scanLogsProto, scanTracesProto } from './scan.ts';
import { decodeTracesProto } from './traces-proto.ts';

const logsOf = (part: Uint8Array) => decodeLogsProto(part).resourceLogs;
const spansOf = (part: Uint8Array) => decodeTracesProto(part).resourceSpans;

/** Logs from ExportLogsServiceRequest bytes already checked to hold `count` records. */
export function lazyLogs(parts: Uint8Array[], count: number): LogsData {
  return lazyPayload<LogsData>('resourceLogs', { parts, count, decode: logsOf });
}

export function lazyTraces(parts: Uint8Array[], count: number): TracesData {
  return lazyPayload<TracesData>('resourceSpans', { parts, count, decode: spansOf });
}

/** Validates one request (throws OtlpDecodeError as the decoder would) and returns it undecoded. */
export function scanLogsLazily(bytes: Uint8Array): LogsData {
  return lazyLogs([bytes], scanLogsProto(bytes));
}

export function scanTracesLazily(bytes: Uint8Array): TracesData {
  return lazyTraces([bytes], scanTracesProto(bytes));
}
