/**
 * Through the default pipeline's shape (otlp → memory_limiter → batch → spool
 * on file_storage → correlate, audit → embedded ClickHouse): one sender's
 * poison (prototype names, invalid UTF-8) fails that sender's own requests
 * with 400 while another sender, batched in the same window, keeps getting
 * 200 and its records are stored.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeLogsJson, encodeLogsProto } from '../core/otlp/index.ts';
import { sampleLogs } from './helpers.ts';
import { postFrom } from './hostile-clients.ts';
import { embeddedClickhouse, startInTempDir, type RunningService } from './service.ts';

let running: RunningService | undefined;
let http = '';

beforeAll(async () => {
  running = await startInTempDir('th-poison-', (dir) => `
receivers:
  otlp:
    protocols:
      http: {endpoint: "127.0.0.1:0"}
  spool:
processors:
  memory_limiter: {check_interval: 1s, limit_mib: 4096, spike_limit_mib: 512}
  batch: {timeout: 300ms}
  correlate: {wait: 50ms, path: ${dir}/store}
  audit: {path: ${dir}/store}
exporters:
  spool:
    sending_queue: {storage: file_storage}
${embeddedClickhouse(dir)}
extensions:
  file_storage: {directory: ${dir}/queue}
service:
  extensions: [file_storage]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs/ingest: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [spool]}
    traces/ingest: {receivers: [otlp], processors: [memory_limiter, batch], exporters: [spool]}
    logs: {receivers: [spool], processors: [correlate, audit], exporters: [clickhouse]}
    traces: {receivers: [spool], processors: [correlate], exporters: [clickhouse]}
`);
  http = running.otlp.http!.address;
}, 120_000);

afterAll(async () => {
  await running?.stop();
});

/** OTLP/JSON logs of `service` with `patch` applied to the first record's JSON. */
function poisonJson(patch: Record<string, unknown>): Buffer {
  const doc = JSON.parse(encodeLogsJson(sampleLogs(2, 'mallory'))) as { resourceLogs: Array<{ scopeLogs: Array<{ logRecords: Array<Record<string, unknown>> }> }> };
  Object.assign(doc.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!, patch);
  return Buffer.from(JSON.stringify(doc));
}

function invalidUtf8Proto(): Buffer {
  const b = Buffer.from(encodeLogsProto(sampleLogs(2, 'mallory')));
  const at = b.indexOf('request 0');
  b[at] = 0xff;
  return b;
}

const POISON: Array<[string, Buffer, string]> = [
  ['severityNumber "constructor"', poisonJson({ severityNumber: 'constructor' }), 'application/json'],
  ['severityNumber "__proto__"', poisonJson({ severityNumber: '__proto__' }), 'application/json'],
  ['body doubleValue "__proto__"', poisonJson({ body: { doubleValue: '__proto__' } }), 'application/json'],
  ['attribute doubleValue "valueOf"', poisonJson({ attributes: [{ key: 'x', value: { doubleValue: 'valueOf' } }] }), 'application/json'],
  ['body with invalid UTF-8 (protobuf)', invalidUtf8Proto(), 'application/x-protobuf'],
];

describe('poison isolation through the default pipeline', () => {
  it('the poisoning sender gets 400 for its own requests; the other sender gets 200 and its records are stored', async () => {
    const good: Array<Promise<{ status: number }>> = [];
    const bad: Array<Promise<{ status: number; body: string }>> = [];
    for (let round = 0; round < 4; round++) {
      for (const [, body, type] of POISON) bad.push(postFrom(http, '/v1/logs', body, '127.0.0.1', type));
      good.push(postFrom(http, '/v1/logs', encodeLogsProto(sampleLogs(5, `alice-${round}`)), '127.0.0.2'));
      good.push(postFrom(http, '/v1/logs', Buffer.from(encodeLogsJson(sampleLogs(5, `alice-json-${round}`))), '127.0.0.2', 'application/json'));
    }
    const goodAnswers = await Promise.all(good);
    const badAnswers = await Promise.all(bad);
    expect(goodAnswers.map((a) => a.status)).toEqual(good.map(() => 200));
    expect(badAnswers.map((a) => a.status)).toEqual(bad.map(() => 400));
    const rows = await running!.waitRows<{ c: string }>(
      "SELECT count() AS c FROM otel.otel_logs WHERE ServiceName LIKE 'alice-%'",
      (r) => r[0]?.c === '40',
      'all of the good sender\'s records stored',
      60_000,
    );
    expect(rows[0]!.c).toBe('40');
    const mallory = await running!.rows<{ c: string }>("SELECT count() AS c FROM otel.otel_logs WHERE ServiceName = 'mallory'");
    expect(mallory[0]!.c).toBe('0');
  }, 90_000);
});
