/**
 * One lifecycle suite over every built-in component, as the Collector's
 * generated component tests: create from the factory's defaults (plus what a
 * test machine needs: port 0, temp dirs, the test broker), start, consume a
 * sample where the component consumes, shut down twice, and leave no open
 * handles behind. A component without a fixture here fails the suite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import bcrypt from 'bcryptjs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtinFactories } from '../components.ts';
import type { Component, Factory, LogsConsumer, TracesConsumer } from '../core/component.ts';
import { decode, type ConfigError } from '../core/config/schema.ts';
import { MetricsRegistry } from '../core/telemetry/metrics.ts';
import { attachSpool } from '../core/spool-channel.ts';
import { OtlpReceiver } from '../receivers/otlp/otlp.ts';
import { grpcDefaults, httpDefaults } from '../receivers/otlp/config.ts';
import { ensureKafka, uniqueTopic } from './kafka-broker.ts';
import { RecordingConsumer, sampleLogs, sampleTraces, testHost, testLogger } from './helpers.ts';
import { Payload } from '../core/payload.ts';
import { clickhouseStoreFactory } from '../extensions/clickhouse_store/index.ts';

/** An OTLP receiver for the OTLP exporters to send to, started once, stopped after the suite. */
let sink: Promise<OtlpReceiver> | undefined;
const otlpSink = () =>
  (sink ??= (async () => {
    const r = new OtlpReceiver({ id: 'otlp/sink', config: { protocols: { grpc: { ...grpcDefaults(), endpoint: '127.0.0.1:0' }, http: { ...httpDefaults(), endpoint: '127.0.0.1:0' } } }, logger: testLogger(), metrics: new MetricsRegistry() }, { logs: new RecordingConsumer(), traces: new RecordingConsumer() });
    await r.start(testHost());
    return r;
  })());
// Started before any test: its listeners are not a component's leak.
beforeAll(async () => void (await otlpSink()));
afterAll(async () => (await sink)?.shutdown());

const dirs: string[] = [];
/** A fresh directory for a component's data, removed after the suite. */
export const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'th-life-'));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Returns user-style config overrides (as in pipeline.yaml) for a test machine. */
type Fixture = () => Promise<Record<string, unknown>> | Record<string, unknown>;

/** What each component needs on a test machine; keys are `kind/type`. */
// chDB binds one data directory per process: every store-backed component here shares it.
let chdbPath: string | undefined;
const chdb = () => (chdbPath ??= tmp());

const fixtures: Record<string, Fixture> = {
  'exporter/clickhouse': () => ({ path: chdb(), query_endpoint: '127.0.0.1:0', sending_queue: { enabled: false } }),
  'processor/audit': () => ({ path: chdb() }),
  'processor/correlate': () => ({ path: chdb(), wait: '50ms' }),
  // No audit processor on this host: the default rules; no store (state in memory).
  'processor/detect': () => ({ rules_from: '' }),
  'receiver/otlp': () => ({ protocols: { grpc: { endpoint: '127.0.0.1:0', max_recv_msg_size_mib: 4 }, http: { endpoint: '127.0.0.1:0', max_request_body_size: 1 << 20, logs_url_path: '/v1/logs', traces_url_path: '/v1/traces' } } }),
  'receiver/jaeger': () => ({
    protocols: {
      grpc: { endpoint: '127.0.0.1:0' },
      thrift_http: { endpoint: '127.0.0.1:0' },
      thrift_compact: { endpoint: '127.0.0.1:0' },
      thrift_binary: { endpoint: '127.0.0.1:0' },
    },
  }),
  'receiver/zipkin': () => ({ endpoint: '127.0.0.1:0' }),
  'receiver/fluentforward': () => ({ endpoint: '127.0.0.1:0' }),
  'receiver/loki': () => ({ protocols: { http: { endpoint: '127.0.0.1:0' } } }),
  'receiver/datadog': () => ({ endpoint: '127.0.0.1:0' }),
  'receiver/beats': () => ({ endpoint: '127.0.0.1:0' }),
  'receiver/syslog': () => ({ tcp: { listen_address: '127.0.0.1:0' }, udp: { listen_address: '127.0.0.1:0' } }),
  'exporter/kafka': async () => ({
    brokers: [await ensureKafka()],
    logs: { topic: uniqueTopic('life_logs') },
    traces: { topic: uniqueTopic('life_spans') },
  }),
  'receiver/spool': () => ({ name: 'lifecycle' }),
  'receiver/kafka': async () => ({
    brokers: [await ensureKafka()],
    group_id: uniqueTopic('life_group'),
    logs: { topic: uniqueTopic('life_logs') },
    traces: { topic: uniqueTopic('life_spans') },
  }),
  'extension/file_storage': () => ({ directory: tmp() }),
  'extension/clickhouse_store': () => ({ path: chdb(), query_endpoint: '127.0.0.1:0' }),
  'processor/batch': () => ({}),
  'processor/redaction': () => ({ allow_all_keys: true, blocked_values: ['secret'] }),
  'connector/forward': () => ({}),
  'connector/routing': () => ({ table: [{ condition: 'attributes["service.name"] == "checkout"', pipelines: ['logs/out'] }] }),
  'processor/transform': () => ({ log_statements: [{ context: 'log', statements: ['set(attributes["seen"], true)'] }], trace_statements: [{ context: 'span', statements: ['set(attributes["seen"], true)'] }] }),
  'processor/filter': () => ({ logs: { log_record: ['IsMatch(body, "^never")'] }, traces: { span: ['name == "never"'] } }),
  'processor/attributes': () => ({ actions: [{ key: 'env', action: 'upsert', value: 'test' }] }),
  'processor/resource': () => ({ attributes: [{ key: 'deployment.environment', action: 'insert', value: 'test' }] }),
  'processor/memory_limiter': () => ({ limit_mib: 4096 }),
  'exporter/debug': () => ({}),
  'exporter/spool': () => {
    attachSpool('lifecycle-exporter', async () => {});
    return { name: 'lifecycle-exporter' };
  },
  'extension/health_check': () => ({ endpoint: '127.0.0.1:0' }),
  'extension/bearertokenauth': () => {
    const file = join(tmp(), 'tokens');
    writeFileSync(file, 'lifecycle-token\n');
    return { filename: file };
  },
  'extension/basicauth': () => ({ htpasswd: { inline: `user:${bcrypt.hashSync('pw', 4)}` } }),
  'extension/alerts': () => ({ store: 'clickhouse_store' }),
  'extension/console': () => ({ endpoint: '127.0.0.1:0', store: 'clickhouse_store', alerts: null }),
  // ship-c (issue 20): a file to tail; the exporters send to trailhouse's own OTLP receiver.
  'receiver/filelog': () => {
    const d = tmp();
    writeFileSync(join(d, 'a.log'), 'one\n');
    return { include: [join(d, '*.log')], start_at: 'beginning', poll_interval: '10ms' };
  },
  'exporter/otlp': async () => ({ endpoint: (await otlpSink()).grpc!.address, tls: { insecure: true }, sending_queue: { enabled: false } }),
  'exporter/otlphttp': async () => ({ endpoint: `http://${(await otlpSink()).http!.address}`, sending_queue: { enabled: false } }),
};

/** Started extensions a component's host must offer (by id), for components that name one; shut down after it. */
const hostExtensions: Record<string, () => Promise<Record<string, Component>>> = {
  'extension/alerts': async () => {
    const store = clickhouseStoreFactory.create({ id: 'clickhouse_store', config: { ...clickhouseStoreFactory.defaultConfig(), path: chdb(), query_endpoint: '127.0.0.1:0' }, logger: testLogger(), metrics: new MetricsRegistry() });
    await store.start(testHost());
    return { clickhouse_store: store };
  },
  'extension/console': async () => {
    const store = clickhouseStoreFactory.create({ id: 'clickhouse_store', config: { ...clickhouseStoreFactory.defaultConfig(), path: chdb(), query_endpoint: '127.0.0.1:0' }, logger: testLogger(), metrics: new MetricsRegistry() });
    await store.start(testHost());
    return { clickhouse_store: store };
  },
};

function handles(): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of process.getActiveResourcesInfo()) m.set(r, (m.get(r) ?? 0) + 1);
  return m;
}

async function exercise(f: Factory): Promise<void> {
  const key = `${f.kind}/${f.type}`;
  const fixture = fixtures[key];
  if (!fixture) throw new Error(`no lifecycle fixture for ${key}: add one to test/lifecycle.test.ts`);
  // Fixtures give user-style overrides; decode them as the config loader does.
  const errors: ConfigError[] = [];
  const config = decode(f.schema, f.defaultConfig(), await fixture(), key, errors);
  errors.push(...((f.validate as ((c: unknown) => ConfigError[]) | undefined)?.(config) ?? []));
  expect(errors).toEqual([]);
  const settings = { id: f.type, config, logger: testLogger(), metrics: new MetricsRegistry() };
  const sink = new RecordingConsumer();
  let c: Component & Partial<LogsConsumer & TracesConsumer>;
  if (f.kind === 'receiver') c = f.create(settings, { logs: sink, traces: sink });
  else if (f.kind === 'processor') c = f.create(settings, { logs: sink, traces: sink });
  else if (f.kind === 'connector') c = f.create(settings, new Map([['logs/out', { logs: sink }], ['traces/out', { traces: sink }]]));
  else c = f.create(settings as never);
  const exts = (await hostExtensions[key]?.()) ?? {};
  await c.start(testHost(exts));
  if (f.kind !== 'receiver' && f.kind !== 'extension') {
    const signals = (f as { signals: readonly string[] }).signals;
    if (signals.includes('logs')) await c.consumeLogs!(Payload.logs(sampleLogs(2)));
    if (signals.includes('traces')) await c.consumeTraces!(Payload.traces(sampleTraces(2)));
  }
  await c.shutdown();
  await c.shutdown();
  for (const e of Object.values(exts)) await e.shutdown();
}

describe('component lifecycle', () => {
  it('every built-in component has a fixture', () => {
    const missing = builtinFactories.map((f) => `${f.kind}/${f.type}`).filter((k) => !fixtures[k]);
    expect(missing).toEqual([]);
  });

  for (const f of builtinFactories) {
    it(`${f.kind}/${f.type}: starts, consumes, shuts down twice, leaves no open handles`, async () => {
      const before = handles();
      await exercise(f);
      await new Promise((r) => setTimeout(r, 50));
      const after = handles();
      const leaked = [...after].filter(([k, n]) => n > (before.get(k) ?? 0) && k !== 'Timeout' && k !== 'TTYWrap');
      expect(leaked).toEqual([]);
    });
  }
});
