/**
 * The otlp and otlphttp exporters against the real OpenTelemetry Collector
 * (the build bench:peer uses: otlp receiver → kafka exporter, built from
 * the Go module proxy in beforeAll, cached). What the Collector received is
 * read back from its Kafka topic (the test broker): every record, intact,
 * over gRPC and HTTP with gzip; a path the Collector does not serve is a
 * permanent failure, as the Collector's own exporter would judge it.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import type { Factory } from '../core/component.ts';
import type { ExporterHelper } from '../core/exporter-helper.ts';
import { PermanentError } from '../core/errors.ts';
import { Payload } from '../core/payload.ts';
import { decodeLogsProto } from '../core/otlp/logs-proto.ts';
import { otlpExporterFactory } from '../exporters/otlp/index.ts';
import { otlpHttpExporterFactory } from '../exporters/otlphttp/index.ts';
import { ensureCollector } from '../scripts/bench/peer/collector.ts';
import { settingsFor } from './component-config.ts';
import { sampleLogs, testHost, waitFor } from './helpers.ts';
import { createTopics, ensureKafka, testKafka, uniqueTopic } from './kafka-broker.ts';
import { freePort } from './process.ts';

const dir = mkdtempSync(join(tmpdir(), 'th-otelcol-'));
let collector: ChildProcess | undefined;
let output = '';
let grpcPort = 0;
let httpPort = 0;
let brokers = '';
const topic = uniqueTopic('otlp-exp');
const received: string[] = [];
let stopConsumer: (() => Promise<void>) | undefined;

beforeAll(async () => {
  const bin = await ensureCollector();
  brokers = await ensureKafka();
  await createTopics(brokers, [topic], 1);
  [grpcPort, httpPort] = await Promise.all([freePort(), freePort()]);
  const cfg = {
    receivers: { otlp: { protocols: { grpc: { endpoint: `127.0.0.1:${grpcPort}` }, http: { endpoint: `127.0.0.1:${httpPort}` } } } },
    exporters: { kafka: { brokers: brokers.split(','), logs: { topic, encoding: 'otlp_proto' } } },
    service: { telemetry: { metrics: { level: 'none' } }, pipelines: { logs: { receivers: ['otlp'], exporters: ['kafka'] } } },
  };
  writeFileSync(join(dir, 'otelcol.yaml'), stringify(cfg));
  collector = spawn(bin, ['--config', join(dir, 'otelcol.yaml')], { stdio: ['ignore', 'pipe', 'pipe'] });
  collector.stderr!.on('data', (d: Buffer) => (output += d.toString()));
  collector.stdout!.on('data', (d: Buffer) => (output += d.toString()));
  await waitFor(() => output.includes('Everything is ready') || collector!.exitCode !== null, 60_000, 'the Collector to start');
  if (collector.exitCode !== null) throw new Error(`the Collector exited:\n${output.slice(-3000)}`);

  const consumer = testKafka(brokers).consumer({ groupId: uniqueTopic('otlp-exp-g') });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ message }) => {
      for (const rl of decodeLogsProto(message.value!).resourceLogs) for (const sl of rl.scopeLogs) for (const r of sl.logRecords) received.push(r.body as string);
    },
  });
  stopConsumer = () => consumer.disconnect();
}, 15 * 60_000);

afterAll(async () => {
  await stopConsumer?.();
  collector?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

function logsWith(prefix: string, n: number) {
  const d = sampleLogs(n);
  d.resourceLogs[0]!.scopeLogs[0]!.logRecords.forEach((r, i) => (r.body = `${prefix}-${i}`));
  return d;
}

describe('otlp exporters → the OpenTelemetry Collector', () => {
  it.each([
    ['otlp (gRPC)', 'grpc'],
    ['otlphttp (protobuf)', 'http'],
  ])('%s with gzip: every record reaches the Collector intact', async (_name, kind) => {
    const common = { sending_queue: { enabled: false }, compression: 'gzip' };
    const exp = (kind === 'grpc'
      ? otlpExporterFactory.create(settingsFor(otlpExporterFactory as Factory, { endpoint: `127.0.0.1:${grpcPort}`, tls: { insecure: true }, ...common }))
      : otlpHttpExporterFactory.create(settingsFor(otlpHttpExporterFactory as Factory, { endpoint: `http://127.0.0.1:${httpPort}`, ...common }))) as ExporterHelper;
    await exp.start(testHost());
    await exp.consumeLogs(Payload.logs(logsWith(kind, 20)));
    await exp.shutdown();
    const want = Array.from({ length: 20 }, (_, i) => `${kind}-${i}`);
    await waitFor(() => want.every((w) => received.includes(w)), 30_000, `${kind} records in the Collector's topic`);
    expect(received.filter((r) => r.startsWith(`${kind}-`)).sort()).toEqual([...want].sort());
  });

  it('a path the Collector does not serve (404) is permanent, not retried', async () => {
    const exp = otlpHttpExporterFactory.create(
      settingsFor(otlpHttpExporterFactory as Factory, { endpoint: `http://127.0.0.1:${httpPort}`, logs_endpoint: `http://127.0.0.1:${httpPort}/v1/nope`, sending_queue: { enabled: false } }),
    ) as ExporterHelper;
    await exp.start(testHost());
    const err = await exp.consumeLogs(Payload.logs(logsWith('nope', 1))).catch((e: unknown) => e);
    await exp.shutdown();
    expect(err).toBeInstanceOf(PermanentError);
    expect(String(err)).toMatch(/HTTP 404/);
  });
});
