/**
 * The process's own logs as OTLP (`service.telemetry.logs.processors`, the
 * Collector's shape): a `trailhouse run` child process sends its log lines
 * through the OTel SDK's exporters to an OTLP receiver in this test, over
 * HTTP/protobuf and gRPC.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getAttr } from '../core/model.ts';
import { MetricsRegistry } from '../core/telemetry/metrics.ts';
import { grpcDefaults, httpDefaults } from '../receivers/otlp/config.ts';
import { OtlpReceiver } from '../receivers/otlp/otlp.ts';
import { errorsOf } from './core/config-errors.ts';
import { RecordingConsumer, testHost, testLogger, waitFor } from './helpers.ts';
import { freePort, Trailhouse } from './process.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-selftel-'));
const sink = new RecordingConsumer();
let collector: OtlpReceiver;

beforeAll(async () => {
  collector = new OtlpReceiver(
    { id: 'otlp', config: { protocols: { grpc: { ...grpcDefaults(), endpoint: '127.0.0.1:0' }, http: { ...httpDefaults(), endpoint: '127.0.0.1:0' } } }, logger: testLogger(), metrics: new MetricsRegistry() },
    { logs: sink, traces: sink },
  );
  await collector.start(testHost());
});

afterAll(async () => {
  await collector.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

const pipeline = (exporter: string, port: number) => `
receivers:
  otlp: {protocols: {http: {endpoint: "127.0.0.1:${port}"}}}
exporters:
  debug:
service:
  telemetry:
    metrics: {level: none}
    logs:
      level: info
      processors:
        - batch:
            exporter:
              otlp: ${exporter}
  pipelines:
    logs: {receivers: [otlp], exporters: [debug]}
`;

describe('own logs as OTLP', () => {
  for (const [name, exporter] of [
    ['http/protobuf', () => `{protocol: http/protobuf, endpoint: "http://${collector.http!.address}", headers: {x-tenant: ops}}`],
    ['grpc', () => `{protocol: grpc, endpoint: "http://${collector.grpc!.address}"}`],
  ] as const) {
    it(`reaches an OTLP receiver over ${name}, with severity, attributes and the service resource`, async () => {
      const t = await Trailhouse.start(dir, `selftel-${name.replace('/', '-')}`, pipeline(exporter(), await freePort()));
      const runningRecord = () => {
        for (const d of sink.logs) {
          for (const rl of d.resourceLogs) {
            if (getAttr(rl.resource.attributes, 'service.name') !== 'trailhouse') continue;
            for (const sl of rl.scopeLogs) for (const r of sl.logRecords) if (r.body === 'trailhouse running' && String(getAttr(r.attributes, 'config')).includes(name.replace('/', '-'))) return { r, rl };
          }
        }
        return undefined;
      };
      const got = await waitFor(runningRecord, 20_000, `the "trailhouse running" record over ${name}`);
      expect(got.r.severityText).toBe('INFO');
      expect(got.r.severityNumber).toBe(9);
      expect(getAttr(got.rl.resource.attributes, 'service.version')).toMatch(/^\d+\.\d+\.\d+/);
      // The last lines are flushed at shutdown.
      expect(await t.stop()).toBe(0);
      await waitFor(() => sink.logRecords.some((r) => r.body === 'pipeline stopped'), 10_000, 'the line logged while stopping');
    }, 60_000);
  }

  it('refuses what it does not offer, with paths', () => {
    const bad = errorsOf(`
receivers:
  otlp: {protocols: {http: {}}}
exporters:
  debug:
service:
  telemetry:
    logs:
      processors:
        - periodic: {}
        - batch: {exporter: {console: {}}}
        - simple: {exporter: {otlp: {protocol: zipkin, endpoint: "http://x:1"}}}
        - batch: {exporter: {otlp: {endpoint: "x:4318"}}}
  pipelines:
    logs: {receivers: [otlp], exporters: [debug]}
`);
    expect(bad).toEqual([
      'service.telemetry.logs.processors[0]: expected one of batch or simple',
      'service.telemetry.logs.processors[1].batch.exporter: expected {otlp: {protocol, endpoint}} (the only exporter offered)',
      'service.telemetry.logs.processors[2].simple.exporter.otlp.protocol: expected one of http/protobuf, http/json, grpc, got "zipkin"',
      'service.telemetry.logs.processors[3].batch.exporter.otlp.endpoint: expected an http:// or https:// URL, got "x:4318"',
    ]);
  });
});
