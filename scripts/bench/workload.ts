/**
 * The bench workload: OTLP payloads shaped like a service mesh's traffic.
 * Each request is one trace: a server span and a client span, and one access
 * log per span with ~12 attributes (Envoy access-log fields with OTel
 * semantic-convention names), sharing the trace id.
 */
import { randomBytes } from 'node:crypto';
import { newLogRecord, newSpan, type LogRecord, type LogsData, type Span, type TracesData } from '../../core/model.ts';

const SERVICES = ['frontend', 'checkout', 'payments', 'inventory', 'auth', 'search'];
const PATHS = ['/api/v1/items', '/api/v1/cart', '/api/v1/pay', '/healthz', '/admin/users', '/api/v1/search?q=shoes'];

function pick<T>(a: readonly T[], i: number): T {
  return a[i % a.length]!;
}

export interface Batch {
  logs: LogsData;
  traces: TracesData;
}

/** One batch of `requests` traces: 2 spans and 2 log records each. */
export function makeBatch(requests: number, seed: number): Batch {
  const now = BigInt(Date.now()) * 1_000_000n;
  const byService = new Map<string, { logs: LogRecord[]; spans: Span[] }>();
  for (let i = 0; i < requests; i++) {
    const n = seed * requests + i;
    const traceId = randomBytes(16).toString('hex');
    const serverSpan = randomBytes(8).toString('hex');
    const clientSpan = randomBytes(8).toString('hex');
    const svc = pick(SERVICES, n);
    const upstream = pick(SERVICES, n + 1);
    const path = pick(PATHS, n);
    const status = n % 50 === 0 ? 403 : n % 97 === 0 ? 503 : 200;
    const start = now + BigInt(i) * 1000n;
    const dur = BigInt(1_000_000 + (n % 5000) * 1000);
    let e = byService.get(svc);
    if (!e) byService.set(svc, (e = { logs: [], spans: [] }));
    e.spans.push(
      newSpan({
        traceId, spanId: serverSpan, name: `GET ${path.split('?')[0]}`, kind: 2,
        startTimeUnixNano: start, endTimeUnixNano: start + dur,
        attributes: [
          { key: 'http.request.method', value: 'GET' },
          { key: 'url.path', value: path },
          { key: 'http.response.status_code', value: BigInt(status) },
          { key: 'guid:x-request-id', value: `req-${n}` },
        ],
        status: { code: status >= 500 ? 2 : 0, message: '' },
      }),
      newSpan({
        traceId, spanId: clientSpan, parentSpanId: serverSpan, name: `${upstream}.svc:8080/*`, kind: 3,
        startTimeUnixNano: start + 1000n, endTimeUnixNano: start + dur - 1000n,
        attributes: [{ key: 'server.address', value: `${upstream}.svc` }, { key: 'upstream_cluster', value: `outbound|8080||${upstream}.svc` }],
      }),
    );
    for (const spanId of [serverSpan, clientSpan]) {
      e.logs.push(
        newLogRecord({
          timeUnixNano: start, observedTimeUnixNano: start + 5000n, severityNumber: 9, severityText: 'INFO',
          body: `[${new Date(Number(start / 1_000_000n)).toISOString()}] "GET ${path} HTTP/1.1" ${status}`,
          traceId, spanId,
          attributes: [
            { key: 'http.request.method', value: 'GET' },
            { key: 'url.path', value: path },
            { key: 'http.response.status_code', value: BigInt(status) },
            { key: 'response_flags', value: status === 503 ? 'UF' : '-' },
            { key: 'response_code_details', value: status === 403 ? 'rbac_access_denied_matched_policy[ns[default]-policy[deny-admin]-rule[0]]' : 'via_upstream' },
            { key: 'client.address', value: `10.0.${n % 256}.${(n >> 8) % 256}` },
            { key: 'server.address', value: `${upstream}.svc` },
            { key: 'downstream_peer_uri_san', value: `spiffe://cluster.local/ns/default/sa/${svc}` },
            { key: 'x_request_id', value: `req-${n}` },
            { key: 'upstream_cluster', value: `outbound|8080||${upstream}.svc` },
            { key: 'bytes_sent', value: BigInt(200 + (n % 1000)) },
            { key: 'duration_ms', value: BigInt(Number(dur / 1_000_000n)) },
          ],
        }),
      );
    }
  }
  const logs: LogsData = { resourceLogs: [] };
  const traces: TracesData = { resourceSpans: [] };
  for (const [svc, e] of byService) {
    const resource = { attributes: [{ key: 'service.name', value: svc }, { key: 'k8s.namespace.name', value: 'default' }], droppedAttributesCount: 0 };
    logs.resourceLogs.push({ resource, schemaUrl: '', scopeLogs: [{ scope: { name: 'envoy.access_loggers.open_telemetry', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: e.logs }] });
    traces.resourceSpans.push({ resource, schemaUrl: '', scopeSpans: [{ scope: { name: 'envoy', version: '', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', spans: e.spans }] });
  }
  return { logs, traces };
}
