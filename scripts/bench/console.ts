/**
 * The console's search and trace pages on real volumes: seeds 1,000,000
 * logs, 100,000 audit events and their spans into a temp embedded store
 * (straight INSERT … SELECT FROM numbers(), no pipeline), starts the
 * console on it (no users: the loopback reader), and times its requests,
 * median of several. Usage:
 *   node --import tsx scripts/bench/console.ts [--logs 1000000] [--audit 100000] [--runs 7]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinRegistry } from '../../components.ts';
import { loadConfigText } from '../../core/config/load.ts';
import { Service } from '../../core/service.ts';
import type { ClickHouseStoreExtension } from '../../extensions/clickhouse_store/clickhouse-store.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : d;
};
const LOGS = arg('logs', 1_000_000);
const AUDIT = arg('audit', 100_000);
const RUNS = arg('runs', 7);
const dir = mkdtempSync(join(tmpdir(), 'th-bench-console-'));
const yaml = `
extensions:
  clickhouse_store: {path: ${dir}, query_endpoint: "127.0.0.1:0"}
  console: {endpoint: "127.0.0.1:0", alerts: null}
receivers:
  otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}
processors:
  audit: {store: clickhouse_store}
exporters:
  clickhouse: {store: clickhouse_store, sending_queue: {enabled: false}}
service:
  extensions: [clickhouse_store, console]
  telemetry: {metrics: {level: none}, logs: {level: warn}}
  pipelines:
    logs: {receivers: [otlp], processors: [audit], exporters: [clickhouse]}
    traces: {receivers: [otlp], exporters: [clickhouse]}
`;
const service = new Service(loadConfigText(yaml, builtinRegistry(), {}), { logger: silentLogger });
await service.start();
const ext = (id: string) => (service as unknown as { extensions: Array<{ id: string; component: any }> }).extensions.find((e) => e.id === id)!.component;
const store = (ext('clickhouse_store') as ClickHouseStoreExtension).store!;
const url: string = ext('console').url;
const now = Date.now();
const tid = (e: string) => `lower(hex(cityHash64(${e}))) || lower(hex(cityHash64(${e} + 1)))`;
// One trace per 100 logs; the last hour holds everything.
const t0 = performance.now();
await store.command(`INSERT INTO otel.otel_logs (Timestamp, TraceId, SpanId, SeverityText, ServiceName, Body)
SELECT fromUnixTimestamp64Milli(toInt64(${now} - 3600000 + number * 3600000 / ${LOGS})), ${tid('intDiv(number, 100)')}, lower(hex(cityHash64(number % 10 + intDiv(number, 100) * 10))),
  'INFO', concat('svc-', toString(number % 20)), concat('request ', toString(number)) FROM numbers(${LOGS})`);
await store.command(`INSERT INTO otel.otel_traces (Timestamp, TraceId, SpanId, ParentSpanId, SpanName, ServiceName, Duration, StatusCode)
SELECT fromUnixTimestamp64Milli(toInt64(${now} - 3600000 + number * 3600000 / ${LOGS / 10})), ${tid('intDiv(number, 10)')}, lower(hex(cityHash64(number % 10 + intDiv(number, 10) * 10))),
  if(number % 10 = 0, '', lower(hex(cityHash64(intDiv(number, 10) * 10)))), concat('op-', toString(number % 7)), concat('svc-', toString(number % 20)), 1000000, 'Ok' FROM numbers(${LOGS / 10})`);
await store.command(`INSERT INTO otel.otel_traces_trace_id_ts SELECT TraceId, min(toDateTime(Timestamp)), max(toDateTime(Timestamp)) FROM otel.otel_traces GROUP BY TraceId`);
await store.command(`INSERT INTO otel.audit_events (Timestamp, Category, Action, Outcome, Principal, Destination, Resource, Policy, TraceId, SpanId, ServiceName, Details)
SELECT fromUnixTimestamp64Milli(toInt64(${now} - 3600000 + number * 3600000 / ${AUDIT})), 'authorization', 'rbac', if(number % 5 = 0, 'denied', 'allowed'),
  concat('spiffe://cluster.local/ns/a/sa/p', toString(number % 300)), 'orders', concat('/api/', toString(number % 50)), 'deny-admin', ${tid('intDiv(number * 10, 100)')}, '', 'istio-proxy', map('event_id', toString(number)) FROM numbers(${AUDIT})`);
console.log(`seeded ${LOGS} logs, ${LOGS / 10} spans, ${AUDIT} audit events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
const trace = (await store.queryRows<{ t: string }>(`SELECT TraceId AS t FROM otel.otel_traces LIMIT 1 OFFSET 5000`))[0]!.t;
const pages: Record<string, string> = {
  'audit search (24h, all)': '/audit',
  'audit search (denied, principal)': '/audit?outcome=denied&principal=spiffe%3A%2F%2Fcluster.local%2Fns%2Fa%2Fsa%2Fp5',
  'audit search (resource glob, page 3)': '/audit?resource=%2Fapi%2F1*&page=3',
  'trace page': `/trace/${trace}`,
  'trace page + 30 s padding': `/trace/${trace}?pad=30`,
};
for (const [name, path] of Object.entries(pages)) {
  const times: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const t = performance.now();
    const res = await fetch(url + path);
    await res.text();
    if (res.status !== 200) throw new Error(`${path}: ${res.status}`);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  console.log(`${name.padEnd(40)} median ${times[Math.floor(times.length / 2)]!.toFixed(0)} ms  (min ${times[0]!.toFixed(0)}, max ${times[times.length - 1]!.toFixed(0)}, ${RUNS} runs)`);
}
await service.shutdown();
rmSync(dir, { recursive: true, force: true });
