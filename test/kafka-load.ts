/** Load and counting helpers for the Kafka fault tests and the benchmark. */
import { createClient, type ClickHouseClient } from '@clickhouse/client';
import { newLogRecord, type LogsData } from '../core/model.ts';
import { encodeLogsProto } from '../core/otlp/index.ts';

/** `n` log records with bodies `<tag>-<from+i>`, spread over 64 trace ids. */
export function logsBatch(tag: string, from: number, n: number): LogsData {
  return {
    resourceLogs: [{
      resource: { attributes: [{ key: 'service.name', value: 'faults' }], droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeLogs: [{
        scope: { name: 'load', version: '1', attributes: [], droppedAttributesCount: 0 },
        schemaUrl: '',
        logRecords: Array.from({ length: n }, (_, i) =>
          newLogRecord({
            timeUnixNano: 1_700_000_000_000_000_000n + BigInt(from + i),
            severityNumber: 9,
            severityText: 'INFO',
            body: `${tag}-${from + i}`,
            attributes: [{ key: 'seq', value: BigInt(from + i) }],
            traceId: (((from + i) % 64) + 1).toString(16).padStart(32, '0'),
            spanId: (from + i + 1).toString(16).padStart(16, '0'),
          }),
        ),
      }],
    }],
  };
}

/** POSTs OTLP/protobuf logs; resolves with the HTTP status (0 = connection failed). */
export async function postLogs(base: string, data: LogsData): Promise<number> {
  try {
    const res = await fetch(`${base}/v1/logs`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-protobuf' },
      body: Buffer.from(encodeLogsProto(data)) as unknown as ArrayBuffer,
      signal: AbortSignal.timeout(30_000),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return 0;
  }
}

export function clickhouse(address: string): ClickHouseClient {
  return createClient({ url: `http://${address}`, request_timeout: 30_000 });
}

/** Rows of a tag in otel_logs: total and distinct bodies (0/0 while the store is unreachable). */
export async function countRows(ch: ClickHouseClient, tag: string): Promise<{ count: number; uniq: number }> {
  try {
    const rs = await ch.query({ query: `SELECT count() AS c, uniqExact(Body) AS u FROM otel.otel_logs WHERE Body LIKE '${tag}-%'`, format: 'JSONEachRow' });
    const [r] = await rs.json<{ c: string; u: string }>();
    return { count: Number(r!.c), uniq: Number(r!.u) };
  } catch {
    return { count: -1, uniq: -1 };
  }
}
