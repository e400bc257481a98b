/**
 * The on-call walkthrough, end to end on the embedded engine: the real OTel
 * SDK sends a request's spans (gRPC) and its logs (HTTP/protobuf) — an app
 * log with trace context, Envoy's access log for the RBAC denial WITHOUT
 * trace context (linked by x-request-id), and a Kubernetes audit event — to
 * a pipeline running correlate (shared by both pipelines) and audit in front
 * of the clickhouse exporter. Then `trailhouse audit --outcome denied` finds
 * the denial and `trailhouse trace` opens it, through the read-only query
 * server, as JSON and as text.
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, SpanKind, SpanStatusCode, TraceFlags, trace } from '@opentelemetry/api';
import { SeverityNumber } from '@opentelemetry/api-logs';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BatchLogRecordProcessor, LoggerProvider } from '@opentelemetry/sdk-logs';
import { BatchSpanProcessor, TracerProvider } from '@opentelemetry/sdk-trace';
import { OTLPLogExporter } from '@opentelemetry/exporter-logs-otlp-proto';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-grpc';
import { auditCommand, type AuditEventJson } from '../bin/commands/audit.ts';
import { traceCommand, type TraceJson } from '../bin/commands/trace.ts';
import { ENVOY_RBAC_DENIED, k8sAuthorizationPolicyPatch } from '../processors/audit/testdata/fixtures.ts';
import { readWitnessFile } from '../lib/audit/witness.ts';
import { verifiersFileOf } from '../lib/tlog/keys.ts';
import { waitFor } from './helpers.ts';
import { expectVerifies } from './verify-check.ts';
import { startService, type RunningService } from './service.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-oncall-'));
const TRACE = '7d2a1f0c9b8e4d3c2a1b0f9e8d7c6b5a';
let running: RunningService | undefined;
let url: string;

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => void out.push(s), err: (s: string) => void err.push(s) }, out, err };
}

beforeAll(async () => {
  running = await startService(
    `
receivers:
  otlp:
    protocols: {grpc: {endpoint: "127.0.0.1:0"}, http: {endpoint: "127.0.0.1:0"}}
processors:
  detect: {rules_from: audit}
  correlate: {wait: 3s, path: ${dir}}
  audit: {path: ${dir}, integrity: {checkpoint_interval: 200ms}}
exporters:
  clickhouse:
    path: ${dir}
    query_endpoint: "127.0.0.1:0"
    sending_queue: {enabled: false}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [detect, correlate, audit], exporters: [clickhouse]}
    traces: {receivers: [otlp], processors: [correlate], exporters: [clickhouse]}
`,
  );
  const otlp = running.otlp;
  url = running.queryUrl;

  const ids = { generateTraceId: () => TRACE, generateSpanId: () => randomBytes(8).toString('hex') };
  const spans = new OTLPTraceExporter({ url: `http://${otlp.grpc!.address}` });
  const frontend = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'frontend' }), idGenerator: ids, spanProcessors: [new BatchSpanProcessor({ exporter: spans })] });
  const sidecar = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': 'httpbin.foo' }), idGenerator: ids, spanProcessors: [new BatchSpanProcessor({ exporter: spans })] });
  const root = frontend.getTracer('shop').startSpan('GET /admin/users', { kind: SpanKind.SERVER, startTime: [1715677923, 400_000_000] });
  const call = frontend.getTracer('shop').startSpan('GET httpbin', { kind: SpanKind.CLIENT, startTime: [1715677923, 450_000_000] }, trace.setSpan(ROOT_CONTEXT, root));
  // Envoy's tracer on the server sidecar records the request id.
  const inbound = sidecar.getTracer('envoy').startSpan('httpbin.foo.svc.cluster.local:8000/*', {
    kind: SpanKind.SERVER,
    startTime: [1715677923, 455_000_000],
    attributes: { 'guid:x-request-id': ENVOY_RBAC_DENIED.x_request_id, 'http.status_code': '403' },
  }, trace.setSpan(ROOT_CONTEXT, call));
  inbound.setStatus({ code: SpanStatusCode.ERROR });
  inbound.end([1715677923, 457_000_000]);
  call.end([1715677923, 460_000_000]);
  root.end([1715677923, 470_000_000]);

  const logs = new LoggerProvider({
    resource: resourceFromAttributes({ 'service.name': 'istio-proxy' }),
    processors: [new BatchLogRecordProcessor({ exporter: new OTLPLogExporter({ url: `http://${otlp.http!.address}/v1/logs` }) })],
  });
  const ctx = trace.setSpanContext(ROOT_CONTEXT, { traceId: TRACE, spanId: call.spanContext().spanId, traceFlags: TraceFlags.SAMPLED });
  logs.getLogger('frontend').emit({ context: ctx, timestamp: [1715677923, 465_000_000], severityNumber: SeverityNumber.WARN, severityText: 'WARN', body: 'httpbin said 403' });
  logs.getLogger('envoy.access').emit({ timestamp: [1715677923, 456_000_000], body: '', attributes: ENVOY_RBAC_DENIED });
  logs.getLogger('k8s.audit').emit({ timestamp: [1715677800, 0], body: JSON.stringify(k8sAuthorizationPolicyPatch()) });
  await frontend.forceFlush();
  await sidecar.forceFlush();
  await logs.forceFlush();
  const probe = capture();
  await waitFor(async () => (await traceCommand([TRACE, '--json', '--endpoint', url], probe.io)) === 0 && (JSON.parse(probe.out.at(-1)!) as TraceJson).summary?.logCount === 2, 30_000, 'the trace and its summary');
});

afterAll(async () => {
  await running?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('on-call commands', () => {
  it('trailhouse audit --outcome denied finds the denial, newest first', async () => {
    const c = capture();
    const code = await auditCommand(['--from', '2024-05-14T00:00:00Z', '--to', '2024-05-15T00:00:00Z', '--outcome', 'denied', '--json', '--endpoint', url], c.io);
    expect(c.err).toEqual([]);
    expect(code).toBe(0);
    const events = JSON.parse(c.out.join('')) as AuditEventJson[];
    expect(events.map((e) => [e.category, e.action, e.outcome])).toEqual([
      ['authorization', 'rbac', 'denied'],
      ['sensitive_access', 'access', 'denied'],
    ]);
    expect(events[0]).toEqual({
      time: '2024-05-14T09:12:03.456000000Z',
      category: 'authorization',
      action: 'rbac',
      outcome: 'denied',
      principal: 'spiffe://cluster.local/ns/foo/sa/sleep',
      source: '10.244.0.12:51234',
      destination: 'httpbin.foo:8000',
      resource: '/admin/users',
      policy: 'ns[foo]-policy[deny-admin]-rule[0]',
      traceId: TRACE,
      spanId: events[0]!.spanId,
      details: expect.objectContaining({ policy_name: 'deny-admin', policy_namespace: 'foo', policy_rule: '0', request_id: ENVOY_RBAC_DENIED.x_request_id, service: 'istio-proxy' }),
    });
    expect(events[0]!.spanId).toMatch(/^[0-9a-f]{16}$/);

    // Filters: configuration changes by alice; a path glob; a principal pattern.
    const conf = capture();
    await auditCommand(['--from', '2024-05-14T00:00:00Z', '--to', '2024-05-15T00:00:00Z', '--category', 'configuration', '--principal', 'alice@*', '--json', '--endpoint', url], conf.io);
    expect((JSON.parse(conf.out.join('')) as AuditEventJson[]).map((e) => [e.action, e.outcome, e.resource])).toEqual([['patch', 'success', 'authorizationpolicies.security.istio.io/foo/deny-admin']]);
    const byPath = capture();
    await auditCommand(['--from', '2024-05-14T00:00:00Z', '--to', '2024-05-15T00:00:00Z', '--path', '/admin/**', '--json', '--endpoint', url], byPath.io);
    expect((JSON.parse(byPath.out.join('')) as AuditEventJson[]).length).toBe(2);
    // The last hour holds no mesh events, only the reads of the store itself
    // (every query is audited, these commands' own included).
    const lastHour = await waitFor(async () => {
      const recent = capture();
      await auditCommand(['--since', '1h', '--json', '--endpoint', url], recent.io);
      const events = JSON.parse(recent.out.join('')) as AuditEventJson[];
      return events.length > 0 ? events : undefined;
    }, 15_000, 'the store\'s own reads in audit_events');
    expect(new Set(lastHour.map((e) => `${e.category}/${e.action}`))).toEqual(new Set(['data_access/query']));

    const text = capture();
    expect(await auditCommand(['--from', '2024-05-14T00:00:00Z', '--to', '2024-05-15T00:00:00Z', '--endpoint', url], text.io)).toBe(0);
    expect(text.out.join('')).toMatch(/^TIME\s+CATEGORY\s+ACTION\s+OUTCOME/);
    expect(text.out.join('')).toContain('ns[foo]-policy[deny-admin]-rule[0]');
  });

  it('trailhouse trace shows the span tree, and logs and audit events in time order', async () => {
    const c = capture();
    expect(await traceCommand([TRACE, '--json', '--endpoint', url], c.io)).toBe(0);
    const t = JSON.parse(c.out.join('')) as TraceJson;
    expect(t.traceId).toBe(TRACE);
    expect(t.summary).toEqual({
      start: '2024-05-14T09:12:03.400000000Z',
      end: '2024-05-14T09:12:03.470000000Z',
      durationNs: 70_000_000,
      rootService: 'frontend',
      rootName: 'GET /admin/users',
      spanCount: 3,
      errorCount: 1,
      services: ['frontend', 'httpbin.foo'],
      logCount: 2,
      auditEvents: { authorization: 1, sensitive_access: 1 },
      principals: ['spiffe://cluster.local/ns/foo/sa/sleep'],
    });
    expect(t.spans.map((s) => [s.name, s.kind, s.service, s.durationNs, s.status])).toEqual([
      ['GET /admin/users', 'Server', 'frontend', 70_000_000, 'Unset'],
      ['GET httpbin', 'Client', 'frontend', 10_000_000, 'Unset'],
      ['httpbin.foo.svc.cluster.local:8000/*', 'Server', 'httpbin.foo', 2_000_000, 'Error'],
    ]);
    // The access log had no trace context: correlate linked it to the sidecar's span and enriched it.
    const access = t.logs.find((l) => l.attributes.response_code === '403')!;
    expect(access.spanId).toBe(t.spans[2]!.spanId);
    expect(access.attributes).toMatchObject({
      'trailhouse.linked_by': 'x-request-id',
      'trailhouse.span.name': 'httpbin.foo.svc.cluster.local:8000/*',
      'trailhouse.span.kind': 'Server',
      'trailhouse.span.service': 'httpbin.foo',
      'trailhouse.span.status': 'Error',
      'trailhouse.span.duration_ns': '2000000',
    });
    const app = t.logs.find((l) => l.body === 'httpbin said 403')!;
    expect(app.attributes['trailhouse.span.name']).toBe('GET httpbin');
    expect(t.auditEvents.map((e) => [e.time, e.category])).toEqual([
      ['2024-05-14T09:12:03.456000000Z', 'authorization'],
      ['2024-05-14T09:12:03.456000000Z', 'sensitive_access'],
    ]);

    const text = capture();
    expect(await traceCommand([TRACE, '--endpoint', url], text.io)).toBe(0);
    const lines = text.out.join('').split('\n');
    expect(lines[0]).toContain('frontend: GET /admin/users');
    const tree = lines.slice(lines.indexOf('SPANS') + 1, lines.indexOf('TIMELINE (logs and audit events)') - 1);
    expect(tree.map((l) => l.trim().split(/\s{2,}/)[0])).toEqual(['GET /admin/users', '└─ GET httpbin', '└─ httpbin.foo.svc.cluster.local:8000/*']);
    expect(tree[2]).toMatch(/httpbin\.foo\s+Server\s+2\.0ms\s+ERROR$/);
    const timeline = lines.slice(lines.indexOf('TIMELINE (logs and audit events)') + 1).filter((l) => l.trim());
    expect(timeline.map((l) => l.trim().split(/\s+/).slice(0, 2).join(' '))).toEqual([
      '09:12:03.456000 log',
      '09:12:03.456000 AUDIT',
      '09:12:03.456000 AUDIT',
      '09:12:03.465000 log',
    ]);
    // The access log has no body: its request is shown from its fields.
    expect(timeline[0]).toContain('GET /admin/users?id=7 403 rbac_access_denied_matched_policy[ns[foo]-policy[deny-admin]-rule[0]]');
  });

  it('the audit trail verifies: the denial, classified by detect before correlate linked its trace, has the trace id in its leaf', async () => {
    // The audit processor took detect's rows (classified before the correlation window) and applied correlate's ids.
    expect(running!.service.metrics.sum('trailhouse_audit_reused_classifications')).toBeGreaterThan(0);
    const witness = join(dir, 'witness', 'audit-checkpoints.jsonl');
    const stored = async () => Number((await running!.rows<{ n: string }>("SELECT toString(count()) AS n FROM otel.audit_events WHERE LogOrigin != ''"))[0]!.n);
    await waitFor(async () => { const w = readWitnessFile(witness).records; const n = await stored(); return n > 0 && w.length > 0 && w.at(-1)!.size === n; }, 30_000, 'a checkpoint covering every audit row');
    const report = await expectVerifies(url, witness, verifiersFileOf(join(dir, 'keys', 'audit-checkpoint.key')));
    expect(report.origins.length).toBe(1);
    const denial = await running!.rows<{ TraceId: string }>("SELECT TraceId FROM otel.audit_events WHERE Category = 'authorization' AND Outcome = 'denied'");
    expect(denial).toEqual([{ TraceId: TRACE }]);
  });

  it('bad input: usage errors exit 2, an unknown trace exits 1, an unreachable endpoint exits 3', async () => {
    const bad = capture();
    expect(await traceCommand(['not-a-trace'], bad.io)).toBe(2);
    expect(bad.err.join('')).toContain('32 hex digits');
    const badAudit = capture();
    expect(await auditCommand(['--category', 'nope', '--since', 'soon', '--endpoint', url], badAudit.io)).toBe(2);
    expect(badAudit.err.join('')).toContain('--category: expected one of authorization, authentication, configuration, sensitive_access');
    expect(badAudit.err.join('')).toContain('--since: expected a duration');
    const missing = capture();
    expect(await traceCommand(['0'.repeat(32), '--endpoint', url], missing.io)).toBe(1);
    expect(missing.out.join('')).toContain('no spans, logs or audit events stored');
    const down = capture();
    expect(await auditCommand(['--endpoint', 'http://127.0.0.1:1', '--json'], down.io)).toBe(3);
    expect(down.err.join('')).toContain('cannot reach http://127.0.0.1:1');
  });
});
