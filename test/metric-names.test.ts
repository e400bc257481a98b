/**
 * Self-metric names and labels on the real metrics endpoint, as the
 * Collector 0.165 prints them by default (counters without `_total`, its
 * prometheus reader's `without_type_suffix: true`; labels in name order),
 * checked against a Collector 0.165 built with its builder, and with the
 * suffix when the reader asks for it. Data goes in through the OTLP/HTTP receiver with a
 * real HTTP client.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { builtinRegistry } from '../components.ts';
import { loadConfigText } from '../core/config/load.ts';
import { encodeLogsProto, encodeTracesProto } from '../core/otlp/index.ts';
import { Service } from '../core/service.ts';
import type { OtlpReceiver } from '../receivers/otlp/otlp.ts';
import { sampleLogs, sampleTraces, testLogger, waitFor } from './helpers.ts';
import { freePort } from './process.ts';

const running: Service[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((s) => s.shutdown()));
});

async function start(port: number, reader: string): Promise<string> {
  const yaml = `
receivers:
  otlp: {protocols: {http: {endpoint: "127.0.0.1:0"}}}
  spool: {}
processors:
  redaction:
exporters:
  spool: {sending_queue: {queue_size: 500}}
  debug:
service:
  telemetry:
    metrics: {readers: [{pull: {exporter: {prometheus: {host: 127.0.0.1, port: ${port}${reader}}}}}]}
  pipelines:
    logs/in: {receivers: [otlp], processors: [redaction], exporters: [spool]}
    logs: {receivers: [spool], exporters: [debug]}
    traces: {receivers: [otlp], exporters: [debug]}
`;
  const service = new Service(loadConfigText(yaml, builtinRegistry(), {}), { logger: testLogger() });
  await service.start();
  running.push(service);
  const otlp = (service as unknown as { receivers: Array<{ id: string; component: unknown }> }).receivers.find((r) => r.id === 'otlp')!.component as OtlpReceiver;
  const post = async (path: string, body: Uint8Array) => {
    const res = await fetch(`http://${otlp.http!.address}${path}`, { method: 'POST', headers: { 'content-type': 'application/x-protobuf' }, body: Buffer.from(body) });
    expect(res.status).toBe(200);
  };
  await post('/v1/logs', encodeLogsProto(sampleLogs(3)));
  await post('/v1/traces', encodeTracesProto(sampleTraces(2)));
  const url = `http://127.0.0.1:${port}/metrics`;
  return waitFor(async () => {
    const text = await (await fetch(url)).text();
    return /^otelcol_exporter_sent_log_records(_total)?\{exporter="debug"\} 3$/m.test(text) ? text : undefined;
  }, 10_000, 'the logs through both pipelines');
}

describe('self-metrics endpoint', () => {
  it("prints the Collector 0.165's names and labels, counters without _total", async () => {
    const text = await start(await freePort(), '');
    for (const line of [
      'otelcol_receiver_accepted_log_records{receiver="otlp",transport="http"} 3',
      'otelcol_receiver_accepted_spans{receiver="otlp",transport="http"} 2',
      'otelcol_receiver_refused_log_records{receiver="otlp",transport="http"} 0',
      'otelcol_receiver_accepted_log_records{receiver="spool",transport="spool"} 3',
      'otelcol_processor_incoming_items{otel_signal="logs",processor="redaction"} 3',
      'otelcol_processor_outgoing_items{otel_signal="logs",processor="redaction"} 3',
      'otelcol_exporter_sent_log_records{exporter="spool"} 3',
      'otelcol_exporter_sent_log_records{exporter="debug"} 3',
      'otelcol_exporter_sent_spans{exporter="debug"} 2',
      'otelcol_exporter_queue_capacity{data_type="logs",exporter="spool"} 500',
    ]) {
      expect(text.split('\n')).toContain(line);
    }
    expect(text).toMatch(/^otelcol_exporter_queue_size\{data_type="logs",exporter="spool"\} \d+$/m);
    expect(text).toMatch(/^# TYPE otelcol_receiver_accepted_log_records counter$/m);
    for (const name of ['otelcol_process_uptime', 'otelcol_process_cpu_seconds', 'otelcol_process_memory_rss', 'otelcol_process_runtime_heap_alloc_bytes', 'otelcol_process_runtime_total_sys_memory_bytes']) {
      expect(Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(text)?.[1])).toBeGreaterThan(0);
    }
    // No counter carries the suffix by default, and every name is the Collector's or ours.
    expect(text).not.toMatch(/_total[{ ]/);
    for (const line of text.split('\n').filter((l) => l && !l.startsWith('#'))) expect(line).toMatch(/^(otelcol|trailhouse)_/);
  }, 30_000);

  it('adds _total to counters with the reader\'s without_type_suffix: false, as the Collector does', async () => {
    const text = await start(await freePort(), ', without_type_suffix: false');
    expect(text.split('\n')).toContain('otelcol_receiver_accepted_log_records_total{receiver="otlp",transport="http"} 3');
    expect(text).toMatch(/^# TYPE otelcol_receiver_accepted_log_records_total counter$/m);
    // Gauges keep their names.
    expect(text).toMatch(/^otelcol_exporter_queue_capacity\{data_type="logs",exporter="spool"\} 500$/m);
    expect(text).toMatch(/^otelcol_process_memory_rss \d+$/m);
  }, 30_000);
});
