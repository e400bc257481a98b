// The kafka receiver's raw / text / json log encodings against the real broker
// (test/kafka-broker.ts), with Filebeat's Kafka output event shape via kafkajs.
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Factory } from '../../core/component.ts';
import { getAttr, KvList, type LogRecord } from '../../core/model.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { settingsFor } from '../../test/component-config.ts';
import { RecordingConsumer, testHost, testLogger, waitFor } from '../../test/helpers.ts';
import { createTopics, ensureKafka, testKafka, uniqueTopic } from '../../test/kafka-broker.ts';
import { ENVOY_JSON_LINE, ISTIO_TEXT_LINE, expectEnvoyJsonClassified, expectIstioTextClassified } from '../../test/shipper-classify.ts';
import { validateKafkaReceiver, defaultKafkaReceiverConfig, type KafkaReceiverConfig } from './config.ts';
import { kafkaReceiverFactory } from './factory.ts';
import { decodeLogMessage } from './log-encodings.ts';
import type { KafkaReceiver } from './receiver.ts';

let brokers: string;
beforeAll(async () => {
  brokers = await ensureKafka();
}, 600_000);

const running: KafkaReceiver[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((r) => r.shutdown()));
});

async function produce(topic: string, values: Buffer[]): Promise<void> {
  const p = testKafka(brokers).producer();
  await p.connect();
  await p.send({ topic, messages: values.map((value) => ({ value })) });
  await p.disconnect();
}

async function receive(encoding: string, values: Buffer[], want: number, metrics = new MetricsRegistry()): Promise<LogRecord[]> {
  const topic = uniqueTopic(`rcv-${encoding}`);
  await createTopics(brokers, [topic], 1);
  await produce(topic, values);
  const rec = new RecordingConsumer();
  const settings = settingsFor<KafkaReceiverConfig>(
    kafkaReceiverFactory as Factory,
    { brokers: brokers.split(','), group_id: uniqueTopic('g'), initial_offset: 'earliest', session_timeout: '6s', heartbeat_interval: '1s', max_fetch_wait: '100ms', logs: { topics: [topic], encoding } },
    { metrics, logger: testLogger() },
  );
  const r = kafkaReceiverFactory.create(settings, { logs: rec }) as KafkaReceiver;
  await r.start(testHost());
  running.push(r);
  await waitFor(() => rec.logRecords.length >= want, 30_000, `${want} records`);
  return rec.logRecords;
}

/** What Filebeat's Kafka output writes for one line of an Envoy access log file (codec.json, the default). */
const filebeatEvent = (message: string) =>
  Buffer.from(JSON.stringify({
    '@timestamp': '2024-05-14T09:12:03.456Z',
    '@metadata': { beat: 'filebeat', type: '_doc', version: '8.14.0' },
    message,
    log: { offset: 0, file: { path: '/var/log/envoy/access.log' } },
    input: { type: 'filestream' },
    host: { name: 'node-1' },
    agent: { type: 'filebeat', version: '8.14.0' },
    ecs: { version: '8.0.0' },
  }));

describe('kafka receiver log encodings', () => {
  it('json: Filebeat events as map bodies; an Envoy JSON message is classified as over OTLP', async () => {
    const metrics = new MetricsRegistry();
    const rs = await receive('json', [filebeatEvent(ENVOY_JSON_LINE), Buffer.from('[1,2]'), filebeatEvent('plain line')], 2, metrics);
    expect(rs).toHaveLength(2);
    const body = rs[0]!.body as KvList;
    expect(body).toBeInstanceOf(KvList);
    expect(getAttr(body.values, 'message')).toBe(ENVOY_JSON_LINE);
    expect(getAttr((getAttr(body.values, 'host') as KvList).values, 'name')).toBe('node-1');
    expect(rs[0]!.observedTimeUnixNano).toBeGreaterThan(0n);
    expect(rs[0]!.timeUnixNano).toBe(0n);
    expectEnvoyJsonClassified(rs[0]!);
    expect(rs[1]!.attributes).toEqual([]);
    expect(metrics.sum('otelcol_kafka_receiver_unmarshal_failed_log_records')).toBe(1);
  });

  it('text: lines as string bodies (Envoy JSON and Istio text lines classified); text_latin1 decodes its charset', async () => {
    const rs = await receive('text', [Buffer.from(ENVOY_JSON_LINE), Buffer.from(ISTIO_TEXT_LINE), Buffer.from([0x61, 0xff, 0x62])], 3);
    expect(rs[0]!.body).toBe(ENVOY_JSON_LINE);
    expectEnvoyJsonClassified(rs[0]!);
    expectIstioTextClassified(rs[1]!);
    expect(rs[2]!.body).toBe('a\uFFFDb');
    const latin = await receive('text_latin1', [Buffer.from([0x63, 0x61, 0x66, 0xe9])], 1);
    expect(latin[0]!.body).toBe('café');
  });

  it('raw: the value bytes as a bytes body', async () => {
    const rs = await receive('raw', [Buffer.from([0, 1, 2, 0xff])], 1);
    expect(rs[0]!.body).toEqual(new Uint8Array([0, 1, 2, 0xff]));
  });
});

describe('log encodings, unit', () => {
  it('json refuses what is not a JSON object, with the reason', () => {
    expect(() => decodeLogMessage('json', Buffer.from('{'))).toThrow(/not JSON/);
    expect(() => decodeLogMessage('json', Buffer.from('"x"'))).toThrow(/not a JSON object/);
  });

  it('config: logs-only encodings refused for traces, unknown charsets and names refused', () => {
    const c = (logs: string | null, traces: string | null) => {
      const d = defaultKafkaReceiverConfig();
      return validateKafkaReceiver({ ...d, logs: { ...d.logs, encoding: logs as never }, traces: { ...d.traces, encoding: traces as never } });
    };
    expect(c('json', null)).toEqual([]);
    expect(c('text_shift_jis', 'otlp_json')).toEqual([]);
    expect(c(null, 'raw')[0]).toMatchObject({ path: 'traces.encoding', message: expect.stringMatching(/logs-only/) });
    expect(c('text_klingon', null)[0]).toMatchObject({ path: 'logs.encoding', message: expect.stringMatching(/unknown charset/) });
    expect(c('yaml', null)[0]!.message).toMatch(/unknown encoding "yaml"/);
  });
});
