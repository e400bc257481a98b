/**
 * The store as one component: a `clickhouse_store` extension configured
 * once, named by the exporter, audit and correlate; the query interface is
 * the extension's. And the ways a reference to it can be wrong.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../components.ts';
import { loadConfigFile, loadConfigText } from '../core/config/load.ts';
import { Service } from '../core/service.ts';
import { testLogger } from './helpers.ts';
import { startInTempDir, type RunningService } from './service.ts';

let running: (RunningService & { dir: string }) | undefined;

const pipeline = (dir: string) => `
extensions:
  clickhouse_store:
    path: ${dir}
    query_endpoint: "127.0.0.1:0"
receivers:
  otlp:
    protocols: {http: {endpoint: "127.0.0.1:0"}}
processors:
  batch: {timeout: 20ms}
  correlate: {store: clickhouse_store, wait: 50ms}
  audit: {store: clickhouse_store}
exporters:
  clickhouse: {store: clickhouse_store, sending_queue: {enabled: false}}
service:
  extensions: [clickhouse_store]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [batch, correlate, audit], exporters: [clickhouse]}
`;

beforeAll(async () => {
  running = await startInTempDir('th-store-ext-', pipeline);
});

afterAll(async () => {
  await running?.stop();
});

/** One Envoy access log of a request RBAC denied, as OTLP/JSON. */
function deniedAccessLog(): string {
  const attr = (key: string, value: object) => ({ key, value });
  return JSON.stringify({
    resourceLogs: [
      {
        resource: { attributes: [attr('service.name', { stringValue: 'frontend' })] },
        scopeLogs: [
          {
            scope: { name: 'envoy' },
            logRecords: [
              {
                timeUnixNano: String(BigInt(Date.now()) * 1_000_000n),
                body: { stringValue: 'rbac denied' },
                attributes: [
                  attr('http.response.status_code', { intValue: '403' }),
                  attr('url.path', { stringValue: '/admin/users' }),
                  attr('response_code_details', { stringValue: 'rbac_access_denied_matched_policy[ns[shop]-policy[deny-admin]-rule[0]]' }),
                ],
              },
            ],
          },
        ],
      },
    ],
  });
}

describe('clickhouse_store extension', () => {
  it('is the one store: the exporter, audit and correlate write through it, and it serves the query interface', async () => {
    const r = running!;
    const res = await fetch(`http://${r.otlp.http!.address}/v1/logs`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: deniedAccessLog() });
    expect(res.status).toBe(200);
    const logs = await r.waitRows<{ n: string }>('SELECT count() AS n FROM otel.otel_logs', (rows) => rows[0]?.n === '1', 'the log row');
    expect(logs[0]!.n).toBe('1');
    // a denial on a sensitive path: two audit events
    const audit = await r.waitRows<{ Category: string; Outcome: string }>('SELECT Category, Outcome FROM otel.audit_events ORDER BY Category', (rows) => rows.length === 2, 'the audit rows');
    expect(audit).toEqual([
      { Category: 'authorization', Outcome: 'denied' },
      { Category: 'sensitive_access', Outcome: 'denied' },
    ]);
    // correlate's summary table lives in the same store
    const tables = await r.rows<{ name: string }>("SELECT name FROM system.tables WHERE database = 'otel' ORDER BY name");
    expect(tables.map((t) => t.name)).toEqual(expect.arrayContaining(['otel_logs', 'audit_events', 'trace_summary']));
  });
});

describe('referencing the store', () => {
  const registry = builtinRegistry();
  const load = (yaml: string) => loadConfigText(yaml, registry, {});

  it('./pipeline.yaml configures the store once: every writer names the extension', () => {
    const cfg = loadConfigFile('pipeline.yaml', registry, {});
    expect(cfg.serviceExtensions).toContain('clickhouse_store');
    const writers = [cfg.exporters.get('clickhouse')!, cfg.processors.get('audit')!, cfg.processors.get('correlate')!];
    expect(writers.map((w) => (w.config as { store: string | null }).store)).toEqual(['clickhouse_store', 'clickhouse_store', 'clickhouse_store']);
  });

  it('refuses connection keys beside `store`, naming where they belong', () => {
    expect(() =>
      load(`
extensions: {clickhouse_store: {}}
receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}}
processors: {audit: {store: clickhouse_store, path: ./elsewhere}}
exporters: {clickhouse: {store: clickhouse_store, endpoint: "http://ch:8123", query_endpoint: "127.0.0.1:9999"}}
service: {extensions: [clickhouse_store], pipelines: {logs: {receivers: [otlp], processors: [audit], exporters: [clickhouse]}}}
`),
    ).toThrow(/processors\.audit\.path: set on the store extension "clickhouse_store"[\s\S]*exporters\.clickhouse\.endpoint: set on the store extension[\s\S]*exporters\.clickhouse\.query_endpoint: set on the store extension/);
  });

  it('fails to start with the reason when the id names no store, or something that is not one', async () => {
    for (const [ext, want] of [
      ['', /store: no started extension "clickhouse_store"/],
      ['file_storage', /store: extension "file_storage" is not a clickhouse_store/],
    ] as const) {
      const id = ext || 'clickhouse_store';
      const cfg = load(`
${ext ? `extensions: {${ext}: {directory: ${running!.dir}/q}}` : ''}
receivers: {otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}}
exporters: {clickhouse: {store: ${id}, sending_queue: {enabled: false}}}
service: {${ext ? `extensions: [${ext}], ` : ''}pipelines: {logs: {receivers: [otlp], exporters: [clickhouse]}}}
`);
      const service = new Service(cfg, { logger: testLogger() });
      await expect(service.start()).rejects.toThrow(want);
      await service.shutdown();
    }
  });
});
