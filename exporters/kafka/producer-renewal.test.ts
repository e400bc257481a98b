// A send whose answer is lost, against the real broker (test/kafka-broker.ts):
// the broker wrote the batch, kafkajs took its sequence numbers back, and the
// next batch must not be mistaken for a duplicate of it.
import { connect, type Socket } from 'node:net';
import type { ISocketFactory } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Factory } from '../../core/component.ts';
import { decodeLogsProto } from '../../core/otlp/index.ts';
import type { PushContext } from '../../core/exporter-helper.ts';
import { settingsFor } from '../../test/component-config.ts';
import { sampleLogs, testHost, testLogger, waitFor } from '../../test/helpers.ts';
import { ensureKafka, testKafka, uniqueTopic } from '../../test/kafka-broker.ts';
import { freePort } from '../../test/process.ts';
import type { KafkaExporterConfig } from './config.ts';
import { KafkaExporter } from './exporter.ts';
import { kafkaExporterFactory } from './factory.ts';
import { Payload } from '../../core/payload.ts';

let brokers: string;
beforeAll(async () => {
  brokers = await ensureKafka();
}, 600_000);

/**
 * Sockets to the real broker, with a fault on demand: `cut` lets the next
 * Produce request reach the broker, never delivers its answer and closes the
 * connection; from then on connections are refused until `mode` is set back.
 */
function faultySockets(closedPort: number) {
  const state = { mode: 'pass' as 'pass' | 'cut' | 'refuse', cuts: 0 };
  const factory: ISocketFactory = ({ host, port, onConnect }) => {
    if (state.mode === 'refuse') return connect({ host: '127.0.0.1', port: closedPort }, onConnect);
    const socket: Socket = connect({ host, port }, onConnect);
    const write = socket.write.bind(socket) as (chunk: unknown, ...rest: unknown[]) => boolean;
    socket.write = ((chunk: unknown, ...rest: unknown[]) => {
      const ok = write(chunk, ...rest);
      // A request is int32 size, int16 api key (0 = Produce), ...
      if (state.mode === 'cut' && Buffer.isBuffer(chunk) && chunk.length > 6 && chunk.readInt16BE(4) === 0) {
        state.mode = 'refuse';
        state.cuts++;
        socket.pause(); // the answer is never read
        setTimeout(() => socket.destroy(new Error('connection cut by the test')), 500).unref(); // time for the broker to append the batch
      }
      return ok;
    }) as typeof socket.write;
    return socket;
  };
  return { state, factory };
}

const ctx = (token: string): PushContext => ({ dedupToken: token, attempt: 1, signal: new AbortController().signal });

describe('kafka exporter: a send whose answer was lost', () => {
  const exporters: KafkaExporter[] = [];
  afterAll(async () => {
    await Promise.all(exporters.map((e) => e.shutdown()));
  });

  it('the next batch is written, not taken for a duplicate of the lost one', async () => {
    const topic = uniqueTopic('renew');
    const admin = testKafka(brokers).admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 1 }], waitForLeaders: true });
    await admin.disconnect();

    const faults = faultySockets(await freePort());
    const settings = settingsFor<KafkaExporterConfig>(kafkaExporterFactory as Factory, { brokers: brokers.split(','), logs: { topic } });
    const exp = new KafkaExporter(settings.config, testLogger(), {
      socketFactory: faults.factory,
      retry: { retries: 2, initialRetryTime: 50, maxRetryTime: 200 },
    });
    exporters.push(exp);
    await exp.start(testHost());

    const batch = (tag: string) => {
      const logs = sampleLogs(1);
      logs.resourceLogs[0]!.scopeLogs[0]!.logRecords[0]!.body = `${tag}-body`;
      return logs;
    };
    await exp.pushLogs(Payload.logs(batch('first')), ctx('t1'));
    faults.state.mode = 'cut';
    await expect(exp.pushLogs(Payload.logs(batch('lost-answer')), ctx('t2'))).rejects.toThrow();
    expect(faults.state.cuts).toBe(1);
    faults.state.mode = 'pass';
    // Same record count as the lost request, other records: with the lost
    // request's sequence numbers the broker would answer success and drop it.
    await exp.pushLogs(Payload.logs(batch('after')), ctx('t3'));

    const consumer = testKafka(brokers).consumer({ groupId: uniqueTopic('renew-reader') });
    const bodies: string[] = [];
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        for (const rl of decodeLogsProto(message.value!).resourceLogs)
          for (const sl of rl.scopeLogs) for (const r of sl.logRecords) bodies.push(String(r.body));
      },
    });
    try {
      await waitFor(() => bodies.includes('after-body'), 20_000, 'the batch sent after the lost answer').catch((err: Error) => {
        throw new Error(`${err.message}; topic holds ${JSON.stringify(bodies)}`);
      });
    } finally {
      await consumer.disconnect();
    }
    // The broker did append the request whose answer was lost.
    expect(bodies).toEqual(['first-body', 'lost-answer-body', 'after-body']);
  }, 60_000);
});
