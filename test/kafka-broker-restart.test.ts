/**
 * The broker stopped mid-load and started again: gateway and ingester
 * processes keep running, senders see backpressure at worst, and every
 * record a sender got 200 for is stored exactly once.
 *
 * The broker is a SECOND instance of scripts/kafka.sh (own port and data
 * directory): the shared test broker must not be stopped under other tests.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from 'node:net';
import { sleep, waitFor } from './helpers.ts';
import { createTopics, uniqueTopic } from './kafka-broker.ts';
import { clickhouse, countRows, logsBatch, postLogs } from './kafka-load.ts';
import { freePort, Trailhouse } from './process.ts';

const SCRIPT = fileURLToPath(new URL('../scripts/kafka.sh', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'th-broker2-'));
const kafkaEnv: NodeJS.ProcessEnv = {};
const procs: Trailhouse[] = [];
let brokers = '';

function kafkaSh(cmd: 'start' | 'stop'): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile('bash', [SCRIPT, cmd], { env: { ...process.env, ...kafkaEnv }, timeout: 300_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`kafka.sh ${cmd}: ${stderr}${stdout}`)) : resolve(),
    );
  });
}

const portFree = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });

beforeAll(async () => {
  let port = await freePort();
  while (!(await portFree(port + 1))) port = await freePort();
  kafkaEnv.KAFKA_PORT = String(port);
  kafkaEnv.KAFKA_DATA_DIR = join(dir, 'kafka');
  kafkaEnv.KAFKA_HEAP_OPTS = '-Xmx384m -Xms64m';
  await kafkaSh('start');
  brokers = `127.0.0.1:${port}`;
}, 600_000);

afterAll(async () => {
  for (const p of procs) if (p.proc.exitCode === null) await p.kill9();
  await kafkaSh('stop').catch(() => undefined);
  rmSync(dir, { recursive: true, force: true });
}, 120_000);

describe('broker restart mid-load', () => {
  it('every acknowledged record stored exactly once', async () => {
    const t = { logs: uniqueTopic('restart-logs'), spans: uniqueTopic('restart-spans') };
    await createTopics(brokers, [t.logs, t.spans], 4);
    const [httpPort, queryPort] = [await freePort(), await freePort()];
    const ingester = await Trailhouse.start(dir, 'ingester', `
receivers:
  kafka:
    brokers: ["${brokers}"]
    group_id: ${uniqueTopic('restart')}
    logs: {topic: ${t.logs}}
    traces: {topic: ${t.spans}}
    initial_offset: earliest
    max_batch_records: 500
    max_fetch_wait: 100ms
exporters:
  clickhouse:
    path: ${dir}/store
    query_endpoint: 127.0.0.1:${queryPort}
    query_log: false
    sending_queue: {enabled: false}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [kafka], exporters: [clickhouse]}
    traces: {receivers: [kafka], exporters: [clickhouse]}
`);
    procs.push(ingester);
    const gateway = await Trailhouse.start(dir, 'gateway', `
receivers:
  otlp: {protocols: {http: {endpoint: "127.0.0.1:${httpPort}"}}}
processors:
  batch: {send_batch_size: 500, timeout: 20ms}
exporters:
  kafka:
    brokers: ["${brokers}"]
    logs: {topic: ${t.logs}}
    traces: {topic: ${t.spans}}
    partition_logs_by_trace_id: true
    timeout: 10s
    sending_queue: {queue_size: 200, num_consumers: 4}
    retry_on_failure: {initial_interval: 200ms, max_interval: 2s}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], processors: [batch], exporters: [kafka]}
`);
    procs.push(gateway);

    const base = `http://127.0.0.1:${httpPort}`;
    const tag = uniqueTopic('restart');
    const per = 100;
    const total = 60_000;
    const statuses = new Map<number, number>();
    let next = 0;
    const senders = Array.from({ length: 4 }, async () => {
      while (next < total) {
        const from = next;
        next += per;
        for (;;) {
          const status = await postLogs(base, logsBatch(tag, from, per));
          statuses.set(status, (statuses.get(status) ?? 0) + 1);
          if (status === 200) break;
          // Refused (429/503): not accepted, so sending again is safe, as an OTLP client does.
          expect([429, 503]).toContain(status);
          await sleep(200);
        }
        await sleep(50); // paced, so the outage falls in the middle of the load
      }
    });
    const ch = clickhouse(`127.0.0.1:${queryPort}`);
    try {
      const alive = () => {
        gateway.assertRunning();
        ingester.assertRunning();
      };
      await waitFor(async () => (alive(), next >= 10_000 && (await countRows(ch, tag)).count > 0), 60_000, 'load flowing end to end');
      await kafkaSh('stop');
      const sentAtStop = next;
      expect(sentAtStop).toBeLessThan(total); // the load was still going
      await sleep(5_000);
      await kafkaSh('start');
      await Promise.all(senders);
      let last = { count: 0, uniq: 0 };
      await waitFor(async () => (alive(), (last = await countRows(ch, tag)).uniq === total), 180_000, `all ${total} records`).catch((err: Error) => {
        const seen = [...statuses].map(([s, n]) => `${s}×${n}`).join(' ');
        throw new Error(`${err.message}; stored ${JSON.stringify(last)}, responses ${seen}\n${gateway.tail(60)}\n${ingester.tail(60)}`);
      });
      await sleep(2_000);
      expect(await countRows(ch, tag)).toEqual({ count: total, uniq: total });
      // The gateway and the ingester rode it out.
      expect(gateway.proc.exitCode).toBeNull();
      expect(ingester.proc.exitCode).toBeNull();
    } finally {
      await ch.close();
      await gateway.stop();
      await ingester.stop();
    }
  }, 300_000);
});
