/**
 * Compressed Kafka batches, with Kafka's own Java client as the peer (its
 * console producer and consumer, from the broker's jars: scripts/kafka.sh
 * tool). A Collector or any Java service may write snappy, lz4 or zstd
 * batches; our receiver must read them all, and what our exporter writes
 * with each codec must be readable by Java.
 *
 * Messages are OTLP/JSON (`encoding: otlp_json`, as the Collector names it),
 * so the console tools carry them as text lines.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CompressionTypes } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Factory } from '../core/component.ts';
import type { ExporterHelper } from '../core/exporter-helper.ts';
import { decodeLogsJson, encodeLogsJson } from '../core/otlp/index.ts';
import { codecRegistry, zstdWritable, type Compression, type KafkaCodec } from '../lib/kafka/codecs.ts';
import { kafkaExporterFactory, type KafkaExporterConfig } from '../exporters/kafka/index.ts';
import { kafkaReceiverFactory, type KafkaReceiver, type KafkaReceiverConfig } from '../receivers/kafka/index.ts';
import { settingsFor } from './component-config.ts';
import { RecordingConsumer, sampleLogs, testHost, waitFor } from './helpers.ts';
import { createTopics, ensureKafka, uniqueTopic } from './kafka-broker.ts';
import { Payload } from '../core/payload.ts';

const SCRIPT = fileURLToPath(new URL('../scripts/kafka.sh', import.meta.url));
let brokers: string;
const receivers: KafkaReceiver[] = [];
const exporters: ExporterHelper[] = [];

/** Runs a Kafka tool class; resolves with its stdout, rejects with its stderr on a non-zero exit. */
function kafkaTool(args: string[], stdin = ''): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn('bash', [SCRIPT, 'tool', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d.toString()));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => p.kill('SIGKILL'), 120_000);
    p.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) resolve(out);
      else reject(new Error(`${args[0]} exited ${String(code)}:\n${err.split('\n').slice(-15).join('\n')}`));
    });
    p.stdin.end(stdin);
  });
}

function logsLine(tag: string, n: number): string {
  const d = sampleLogs(n, `svc-${tag}`);
  d.resourceLogs[0]!.scopeLogs[0]!.logRecords.forEach((r, i) => (r.body = `${tag}-${i}`));
  return encodeLogsJson(d);
}

function bodies(rec: RecordingConsumer): string[] {
  return rec.logRecords.map((r) => String(r.body)).sort();
}

async function createTopic(topic: string): Promise<void> {
  await createTopics(brokers, [topic], 1);
}

beforeAll(async () => {
  brokers = await ensureKafka();
}, 600_000);

afterAll(async () => {
  await Promise.all([...receivers.map((r) => r.shutdown()), ...exporters.map((e) => e.shutdown())]);
});

const codecs: Compression[] = ['gzip', 'snappy', 'lz4', 'zstd'];

describe('compressed batches, Java client as the peer', () => {
  it('the receiver reads batches Java wrote with gzip, snappy, lz4 and zstd', async () => {
    await Promise.all(
      codecs.map(async (codec) => {
        const topic = uniqueTopic(`cmp-in-${codec}`);
        await createTopic(topic);
        // 20 messages in one run of the producer: several records per compressed batch.
        const lines = Array.from({ length: 20 }, (_, i) => logsLine(`${codec}-m${i}`, 5)).join('\n') + '\n';
        await kafkaTool(['kafka.tools.ConsoleProducer', '--bootstrap-server', brokers, '--topic', topic, '--compression-codec', codec], lines);
        const rec = new RecordingConsumer();
        const r = kafkaReceiverFactory.create(
          settingsFor<KafkaReceiverConfig>(kafkaReceiverFactory as Factory, {
            brokers: [brokers],
            group_id: uniqueTopic('cmp'),
            initial_offset: 'earliest',
            encoding: 'otlp_json',
            logs: { topic },
            max_fetch_wait: '100ms',
          }),
          { logs: rec },
        ) as KafkaReceiver;
        await r.start(testHost());
        receivers.push(r);
        await waitFor(() => rec.logRecords.length >= 100, 60_000, `100 records written with ${codec}`);
        const want = Array.from({ length: 20 }, (_, i) => Array.from({ length: 5 }, (_, j) => `${codec}-m${i}-${j}`)).flat().sort();
        expect(bodies(rec)).toEqual(want);
      }),
    );
  }, 300_000);

  it('what the exporter writes with each codec, Java reads', async () => {
    const writable = codecs.filter((c) => c !== 'zstd' || zstdWritable);
    // Count the compress calls per codec: the batches really were compressed with it.
    const compressed = new Map<number, number>();
    const saved = new Map<number, () => KafkaCodec>();
    for (const type of [CompressionTypes.GZIP, CompressionTypes.Snappy, CompressionTypes.LZ4, CompressionTypes.ZSTD]) {
      const orig = codecRegistry()[type]!;
      saved.set(type, orig);
      codecRegistry()[type] = () => {
        const c = orig();
        return {
          compress: (e) => {
            compressed.set(type, (compressed.get(type) ?? 0) + 1);
            return c.compress(e);
          },
          decompress: (b) => c.decompress(b),
        };
      };
    }
    try {
      await Promise.all(
        writable.map(async (codec) => {
          const topic = uniqueTopic(`cmp-out-${codec}`);
          await createTopic(topic);
          const exp = kafkaExporterFactory.create(
            settingsFor<KafkaExporterConfig>(kafkaExporterFactory as Factory, {
              brokers: [brokers],
              encoding: 'otlp_json',
              logs: { topic },
              producer: { compression: codec },
              sending_queue: { enabled: false },
            }),
          ) as ExporterHelper;
          await exp.start(testHost());
          exporters.push(exp);
          const data = decodeLogsJson(logsLine(`out-${codec}`, 200));
          await exp.consumeLogs(Payload.logs(data));
          const out = await kafkaTool([
            'org.apache.kafka.tools.consumer.ConsoleConsumer',
            '--bootstrap-server', brokers,
            '--topic', topic,
            '--from-beginning',
            '--max-messages', '1',
            '--timeout-ms', '60000',
          ]);
          const read = decodeLogsJson(out.trim());
          const got = read.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => String(r.body))));
          expect(got).toEqual(Array.from({ length: 200 }, (_, i) => `out-${codec}-${i}`));
          expect(read.resourceLogs[0]!.resource.attributes).toContainEqual({ key: 'service.name', value: `svc-out-${codec}` });
        }),
      );
      expect(compressed.get(CompressionTypes.GZIP)).toBeGreaterThan(0);
      expect(compressed.get(CompressionTypes.Snappy)).toBeGreaterThan(0);
      expect(compressed.get(CompressionTypes.LZ4)).toBeGreaterThan(0);
      if (zstdWritable) expect(compressed.get(CompressionTypes.ZSTD)).toBeGreaterThan(0);
    } finally {
      for (const [type, orig] of saved) codecRegistry()[type] = orig;
    }
  }, 300_000);
});
