/**
 * ClickHouse exporter bench, embedded engine: mesh-access-log-shaped records
 * (Envoy access log attributes, k8s resource attributes) encoded and inserted
 * into chDB in batches, as the exporter does. Reports records/s (wall) and
 * records per CPU-second (process.cpuUsage: every thread, the engine's too).
 *
 *   node --import tsx scripts/bench/clickhouse.ts [records=200000] [batch=8192] [concurrency=1]
 *   SIGNAL=traces node --import tsx scripts/bench/clickhouse.ts   (server/client spans instead)
 *   FORMAT=json …   (JSONCompactEachRow through chDB's raw insert instead of Native blocks)
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { newLogRecord, newSpan, type KeyValue, type LogsData, type TracesData } from '../../core/model.ts';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { defaultClickHouseConfig } from '../../exporters/clickhouse/config.ts';
import { ClickHouseExporter } from '../../exporters/clickhouse/exporter.ts';
import { encodeLogsNative, encodeTracesNative } from '../../lib/clickhouse/native.ts';
import { encodeLogs, encodeTraces } from '../../lib/clickhouse/rows.ts';
import { Payload } from '../../core/payload.ts';

const native = process.env.FORMAT !== 'json';
const formatName = native ? 'Native' : 'JSONCompactEachRow';

const total = Number(process.argv[2] ?? 200_000);
const batchSize = Number(process.argv[3] ?? 8192);
const concurrency = Number(process.argv[4] ?? 1);
const PODS_PER_BATCH = 16;

const hex = (n: number) => randomBytes(n).toString('hex');
const paths = ['/api/cart', '/api/checkout', '/healthz', '/api/products/42', '/api/users/me'];
const methods = ['GET', 'POST', 'PUT'];

function resource(i: number): KeyValue[] {
  const ns = `team-${i % 7}`;
  return [
    { key: 'service.name', value: `svc-${i % 23}` },
    { key: 'k8s.namespace.name', value: ns },
    { key: 'k8s.pod.name', value: `svc-${i % 23}-7d9f8b6c5-${hex(3)}` },
    { key: 'k8s.node.name', value: `node-${i % 5}` },
    { key: 'service.mesh', value: 'istio' },
  ];
}

export function batch(start: number, n: number): LogsData {
  const perPod = Math.ceil(n / PODS_PER_BATCH);
  const t0 = 1_700_000_000_000_000_000n + BigInt(start) * 1_000_000n;
  const out: LogsData = { resourceLogs: [] };
  for (let p = 0, made = 0; p < PODS_PER_BATCH && made < n; p++) {
    const recs = [];
    for (let j = 0; j < perPod && made < n; j++, made++) {
      const k = start + made;
      const status = k % 50 === 0 ? 503n : k % 17 === 0 ? 404n : 200n;
      const method = methods[k % 3]!;
      const url = paths[k % 5]!;
      recs.push(
        newLogRecord({
          timeUnixNano: t0 + BigInt(made) * 1_000n,
          observedTimeUnixNano: t0 + BigInt(made) * 1_000n + 500_000n,
          severityNumber: status >= 500n ? 17 : 9,
          severityText: status >= 500n ? 'ERROR' : 'INFO',
          traceId: hex(16),
          spanId: hex(8),
          flags: 1,
          body: `[2023-11-14T22:13:20.${String(k % 1000).padStart(3, '0')}Z] "${method} ${url} HTTP/1.1" ${status} - via_upstream - "-" 0 ${k % 9000} ${k % 250} ${k % 240} "-" "curl/8.4.0" "${hex(8)}-${hex(4)}" "shop.example" "10.0.${k % 255}.7:8080"`,
          attributes: [
            { key: 'http.request.method', value: method },
            { key: 'url.path', value: url },
            { key: 'http.response.status_code', value: status },
            { key: 'envoy.response_flags', value: '-' },
            { key: 'envoy.upstream_cluster', value: `outbound|8080||svc-${k % 23}.team-${k % 7}.svc.cluster.local` },
            { key: 'duration_ms', value: BigInt(k % 250) },
            { key: 'bytes_sent', value: BigInt(k % 9000) },
            { key: 'user_agent.original', value: 'curl/8.4.0' },
            { key: 'x_request_id', value: `${hex(8)}-${hex(4)}-${hex(4)}` },
            { key: 'upstream.local_address', value: `10.0.${k % 255}.7:45678` },
          ],
        }),
      );
    }
    out.resourceLogs.push({
      resource: { attributes: resource(start + p), droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeLogs: [{ scope: { name: 'envoy.access_log', version: '1.31', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', logRecords: recs }],
    });
  }
  return out;
}

/** Mesh spans: server/client pairs, 10 attributes, an event on every tenth. */
export function spanBatch(start: number, n: number): TracesData {
  const perPod = Math.ceil(n / PODS_PER_BATCH);
  const t0 = 1_700_000_000_000_000_000n + BigInt(start) * 1_000_000n;
  const out: TracesData = { resourceSpans: [] };
  for (let p = 0, made = 0; p < PODS_PER_BATCH && made < n; p++) {
    const spans = [];
    for (let j = 0; j < perPod && made < n; j++, made++) {
      const k = start + made;
      const begin = t0 + BigInt(made) * 1_000n;
      spans.push(
        newSpan({
          traceId: hex(16), spanId: hex(8), parentSpanId: k % 2 ? hex(8) : '', name: `${methods[k % 3]} ${paths[k % 5]}`, kind: k % 2 ? 3 : 2,
          startTimeUnixNano: begin, endTimeUnixNano: begin + BigInt(1_000_000 + (k % 250) * 1000),
          status: { code: k % 50 === 0 ? 2 : 0, message: k % 50 === 0 ? 'upstream connect error' : '' },
          attributes: [
            { key: 'http.request.method', value: methods[k % 3]! }, { key: 'url.path', value: paths[k % 5]! },
            { key: 'http.response.status_code', value: k % 50 === 0 ? 503n : 200n }, { key: 'server.address', value: 'shop.example' },
            { key: 'upstream_cluster', value: `outbound|8080||svc-${k % 23}.team-${k % 7}.svc.cluster.local` },
            { key: 'node_id', value: `sidecar~10.0.${k % 255}.7~svc-${k % 23}.team-${k % 7}` }, { key: 'zone', value: `zone-${k % 3}` },
            { key: 'guid:x-request-id', value: `${hex(8)}-${hex(4)}` }, { key: 'user_agent', value: 'curl/8.4.0' }, { key: 'component', value: 'proxy' },
          ],
          events: k % 10 === 0 ? [{ timeUnixNano: begin + 500n, name: 'retry', attributes: [{ key: 'attempt', value: 1n }], droppedAttributesCount: 0 }] : [],
        }),
      );
    }
    out.resourceSpans.push({
      resource: { attributes: resource(start + p), droppedAttributesCount: 0 },
      schemaUrl: '',
      scopeSpans: [{ scope: { name: 'envoy', version: '1.31', attributes: [], droppedAttributesCount: 0 }, schemaUrl: '', spans }],
    });
  }
  return out;
}

async function mainTraces(): Promise<void> {
  const distinct = Array.from({ length: 4 }, (_, i) => spanBatch(i * batchSize, batchSize));
  const batches: TracesData[] = [];
  for (let i = 0; i * batchSize < total; i++) batches.push(distinct[i % distinct.length]!);
  const records = batches.length * batchSize;
  encodeTraces(batches[0]!);
  let c0 = process.cpuUsage();
  let bytes = 0;
  for (const b of batches) bytes += encodeTraces(b).body.length;
  console.log(`encode spans JSONCompactEachRow: ${Math.round(records / cpuSeconds(process.cpuUsage(c0)))} spans/CPU-s, ${(bytes / records).toFixed(0)} B/row`);
  encodeTracesNative(batches[0]!);
  c0 = process.cpuUsage();
  bytes = 0;
  for (const b of batches) bytes += encodeTracesNative(b).bytes;
  console.log(`encode spans Native: ${Math.round(records / cpuSeconds(process.cpuUsage(c0)))} spans/CPU-s, ${(bytes / records).toFixed(0)} B/row`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-bench-ch-'));
  const exp = new ClickHouseExporter({ ...defaultClickHouseConfig(), path: dir, query_endpoint: null }, silentLogger);
  exp.nativeEnabled = native;
  await exp.start({ logger: silentLogger, metrics: new MetricsRegistry(), getExtension: () => undefined, reportFatal: () => {} });
  const signal = new AbortController().signal;
  c0 = process.cpuUsage();
  const w0 = performance.now();
  for (let i = 0; i < batches.length; i++) await exp.pushTraces(Payload.traces(batches[i]!), { dedupToken: `t${i}`, attempt: 1, signal });
  const wall = (performance.now() - w0) / 1000;
  for (let quiet = 0, i = 0; quiet < 3 && i < 300; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const m = await exp.store!.queryRows<{ c: string }>("SELECT count() AS c FROM system.merges WHERE database = 'otel'");
    quiet = Number(m[0]!.c) === 0 ? quiet + 1 : 0;
  }
  const cpu = cpuSeconds(process.cpuUsage(c0));
  console.log(`insert spans ${formatName} (batch ${batchSize}): ${records} in ${wall.toFixed(2)} s wall, ${cpu.toFixed(2)} CPU-s -> ${Math.round(records / wall)} spans/s, ${Math.round(records / cpu)} spans/CPU-s incl. merges and the trace-id view`);
  await exp.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
}

function cpuSeconds(u: NodeJS.CpuUsage): number {
  return (u.user + u.system) / 1e6;
}

async function main(): Promise<void> {
  // A few distinct batches, cycled: the live heap stays the size of a real
  // pipeline's in-flight batches (holding 200k records would make the
  // garbage collector's old-generation work dominate every measurement).
  const distinct = Array.from({ length: 4 }, (_, i) => batch(i * batchSize, batchSize));
  const batches: LogsData[] = [];
  for (let i = 0; i * batchSize < total; i++) batches.push(distinct[i % distinct.length]!);
  const records = batches.length * batchSize;

  // 1. Row encoding alone, both formats.
  for (const fmt of ['JSONCompactEachRow', 'JSONEachRow'] as const) {
    encodeLogs(batches[0]!, fmt);
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    let bytes = 0;
    for (const b of batches) bytes += encodeLogs(b, fmt).body.length;
    const wall = (performance.now() - w0) / 1000;
    const cpu = cpuSeconds(process.cpuUsage(c0));
    console.log(`encode ${fmt}: ${Math.round(records / wall)} rec/s, ${Math.round(records / cpu)} rec/CPU-s, ${(bytes / records).toFixed(0)} B/row`);
  }
  {
    encodeLogsNative(batches[0]!);
    const c0 = process.cpuUsage();
    const w0 = performance.now();
    let bytes = 0;
    for (const b of batches) bytes += encodeLogsNative(b).bytes;
    const wall = (performance.now() - w0) / 1000;
    const cpu = cpuSeconds(process.cpuUsage(c0));
    console.log(`encode Native: ${Math.round(records / wall)} rec/s, ${Math.round(records / cpu)} rec/CPU-s, ${(bytes / records).toFixed(0)} B/row`);
  }

  if (process.env.ENCODE_ONLY) return;
  // 2. End to end into embedded chDB through the exporter's push.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'th-bench-ch-'));
  const cfg = { ...defaultClickHouseConfig(), path: dir, query_endpoint: null };
  const exp = new ClickHouseExporter(cfg, silentLogger);
  exp.nativeEnabled = native;
  await exp.start({ logger: silentLogger, metrics: new MetricsRegistry(), getExtension: () => undefined, reportFatal: () => {} });
  const signal = new AbortController().signal;
  // Warm-up batch (engine caches, JIT), not counted.
  await exp.pushLogs(Payload.logs(batch(total, 1024)), { dedupToken: 'warm', attempt: 1, signal });
  const c0 = process.cpuUsage();
  const w0 = performance.now();
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < batches.length) {
        const i = next++;
        await exp.pushLogs(Payload.logs(batches[i]!), { dedupToken: `b${i}`, attempt: 1, signal });
      }
    }),
  );
  const wall = (performance.now() - w0) / 1000;
  // Merges the inserts caused are part of their cost: wait for the engine to go quiet (bounded).
  for (let quiet = 0, i = 0; quiet < 3 && i < 300; i++) {
    await new Promise((r) => setTimeout(r, 100));
    const m = await exp.store!.queryRows<{ c: string }>("SELECT count() AS c FROM system.merges WHERE database = 'otel'");
    quiet = Number(m[0]!.c) === 0 ? quiet + 1 : 0;
  }
  const cpu = cpuSeconds(process.cpuUsage(c0));
  const count = (await exp.store!.queryRows<{ c: string }>('SELECT count() AS c FROM otel.otel_logs'))[0]!.c;
  console.log(
    `insert ${formatName} (batch ${batchSize}, concurrency ${concurrency}): ${records} records in ${wall.toFixed(2)} s wall, ${cpu.toFixed(2)} CPU-s -> ` +
      `${Math.round(records / wall)} rec/s, ${Math.round(records / cpu)} rec/CPU-s incl. merges until quiet (rows stored: ${Number(count) - 1024})`,
  );
  await exp.shutdown();
  fs.rmSync(dir, { recursive: true, force: true });
}

if (process.argv[1]?.endsWith('clickhouse.ts')) await (process.env.SIGNAL === 'traces' ? mainTraces() : main());
