/**
 * Crash tests with real processes (`trailhouse run`), the test broker and the
 * embedded ClickHouse engine, counts asserted: every record acknowledged is
 * stored, none twice.
 *
 * - ingester kill -9 mid-stream, restarted: the chunks in flight are re-formed
 *   from the committed plan with the same tokens; ClickHouse drops repeats;
 * - gateway kill -9 mid-load with the persistent queue: what the gateway
 *   acknowledged is fsynced and replayed after the restart; a batch that
 *   reached Kafka just before the kill is written again by the replay, and
 *   the ingester skips the second copy by its message ids (without that,
 *   this test sees duplicates).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Factory } from '../core/component.ts';
import type { ExporterHelper } from '../core/exporter-helper.ts';
import { kafkaExporterFactory, type KafkaExporterConfig } from '../exporters/kafka/index.ts';
import { settingsFor } from './component-config.ts';
import { sleep, testHost, waitFor } from './helpers.ts';
import { createTopics, ensureKafka, uniqueTopic } from './kafka-broker.ts';
import { clickhouse, countRows, logsBatch, postLogs } from './kafka-load.ts';
import { freePort, Trailhouse } from './process.ts';
import { Payload } from '../core/payload.ts';

let brokers: string;
const dirs: string[] = [];
const procs: Trailhouse[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'th-faults-'));
  dirs.push(d);
  return d;
};

beforeAll(async () => {
  brokers = await ensureKafka();
}, 600_000);
afterAll(async () => {
  for (const p of procs) if (p.proc.exitCode === null) await p.kill9();
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function topics(n = 4): Promise<{ logs: string; spans: string }> {
  const t = { logs: uniqueTopic('faults-logs'), spans: uniqueTopic('faults-spans') };
  await createTopics(brokers, [t.logs, t.spans], n);
  return t;
}

function ingesterConfig(t: { logs: string; spans: string }, group: string, dir: string, queryPort: number): string {
  return `
receivers:
  kafka:
    brokers: ["${brokers}"]
    group_id: ${group}
    logs: {topic: ${t.logs}}
    traces: {topic: ${t.spans}}
    initial_offset: earliest
    max_batch_records: 400
    max_inflight_batches: 4
    max_fetch_wait: 100ms
    session_timeout: 6s
    heartbeat_interval: 1s
exporters:
  clickhouse:
    path: ${dir}/store
    query_endpoint: 127.0.0.1:${queryPort}
    sending_queue: {enabled: false}
    retry_on_failure: {initial_interval: 200ms, max_interval: 1s, max_elapsed_time: 10s}
service:
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [kafka], exporters: [clickhouse]}
    traces: {receivers: [kafka], exporters: [clickhouse]}
`;
}

function gatewayConfig(t: { logs: string; spans: string }, dir: string, httpPort: number): string {
  return `
receivers:
  otlp: {protocols: {http: {endpoint: "127.0.0.1:${httpPort}"}}}
exporters:
  kafka:
    brokers: ["${brokers}"]
    logs: {topic: ${t.logs}}
    traces: {topic: ${t.spans}}
    partition_logs_by_trace_id: true
    partition_traces_by_id: true
    # The default gateway's shape: each request queued (and answered) on its own, joined after the queue.
    sending_queue: {storage: file_storage, num_consumers: 2, queue_size: 5000, batch: {flush_timeout: 20ms, min_size: 500}}
    retry_on_failure: {initial_interval: 200ms, max_interval: 1s}
extensions:
  file_storage: {directory: ${dir}/queue}
service:
  extensions: [file_storage]
  telemetry: {metrics: {level: none}}
  pipelines:
    logs: {receivers: [otlp], exporters: [kafka]}
`;
}

describe('crash faults', () => {
  it('ingester kill -9 mid-stream and restart: every record stored exactly once', async () => {
    const t = await topics();
    const group = uniqueTopic('faults-ingester');
    const dir = tmp();
    const port = await freePort();
    const exp = kafkaExporterFactory.create(
      settingsFor<KafkaExporterConfig>(kafkaExporterFactory as Factory, { brokers: [brokers], logs: { topic: t.logs }, traces: { topic: t.spans }, partition_logs_by_trace_id: true }),
    ) as ExporterHelper;
    await exp.start(testHost());
    const tag = uniqueTopic('ing');
    const per = 200;
    // A steady stream: 200 records every 15 ms while the ingester runs, dies
    // and comes back. It ends 10 000 records after the kill, however long the
    // first ingester took to start (a slow machine must not move the kill past
    // the end of the stream).
    let produced = 0;
    let end = 200_000; // a bound in case the kill never comes (the wait below fails first)
    const producing = (async () => {
      for (let i = 0; i < end; i += per) {
        await exp.consumeLogs(Payload.logs(logsBatch(tag, i, per)));
        produced += per;
        await sleep(15);
      }
    })();
    const ch = clickhouse(`127.0.0.1:${port}`);
    try {
      const first = await Trailhouse.start(dir, 'ingester', ingesterConfig(t, group, dir, port));
      procs.push(first);
      await waitFor(async () => (await countRows(ch, tag)).count >= 6_000, 60_000, 'rows before the kill');
      await first.kill9();
      const atKill = produced;
      end = atKill + 10_000;
      await sleep(1_000);
      const second = await Trailhouse.start(dir, 'ingester', ingesterConfig(t, group, dir, port));
      procs.push(second);
      await producing;
      const total = produced;
      expect(total).toBe(atKill + 10_000); // the stream was still going at the kill
      const final = await waitFor(async () => {
        const c = await countRows(ch, tag);
        return c.uniq === total ? c : undefined;
      }, 120_000, `all ${total} records`);
      await sleep(2_000); // a late duplicate would show now
      expect(await countRows(ch, tag)).toEqual({ count: total, uniq: total });
      expect(final.count).toBe(total);
      expect(second.lines.some((l) => l.includes('replaying') || l.includes('joined consumer group'))).toBe(true);
      await second.stop();
    } finally {
      await ch.close();
      await exp.shutdown();
    }
  }, 300_000);

  it('gateway kill -9 mid-load with the persistent queue: every acknowledged record stored once', async () => {
    const t = await topics();
    const dir = tmp();
    const [httpPort, queryPort] = [await freePort(), await freePort()];
    const ingester = await Trailhouse.start(dir, 'ingester', ingesterConfig(t, uniqueTopic('faults-gw'), dir, queryPort));
    procs.push(ingester);
    let gateway = await Trailhouse.start(dir, 'gateway', gatewayConfig(t, dir, httpPort));
    procs.push(gateway);
    const base = `http://127.0.0.1:${httpPort}`;
    const tag = uniqueTopic('gw');
    const per = 100;
    const acked = new Set<number>();
    const unsure = new Set<number>(); // in flight at the kill: neither acknowledged nor refused
    let next = 0;
    let killed = false;
    const senders = Array.from({ length: 4 }, async () => {
      while (next < 30_000) {
        const from = next;
        next += per;
        let status = await postLogs(base, logsBatch(tag, from, per));
        while (status !== 200) {
          if (status === 0 && killed) {
            unsure.add(from);
            break;
          }
          await sleep(100);
          status = await postLogs(base, logsBatch(tag, from, per));
        }
        if (status === 200) acked.add(from);
        await sleep(20); // paced, so the kill falls in the middle of the load
      }
    });
    await waitFor(() => acked.size >= 60, 60_000, 'acknowledged requests before the kill');
    killed = true;
    await gateway.kill9();
    const ackedAtKill = acked.size;
    await sleep(500);
    gateway = await Trailhouse.start(dir, 'gateway', gatewayConfig(t, dir, httpPort));
    procs.push(gateway);
    killed = false;
    await Promise.all(senders);
    const ch = clickhouse(`127.0.0.1:${queryPort}`);
    try {
      const expected = acked.size * per;
      await waitFor(async () => (await countRows(ch, tag)).uniq >= expected, 120_000, `${expected} acknowledged records`);
      await sleep(2_000);
      const rows = await ch.query({ query: `SELECT Body, count() AS c FROM otel.otel_logs WHERE Body LIKE '${tag}-%' GROUP BY Body HAVING c > 1 LIMIT 5`, format: 'JSONEachRow' });
      const dups = await rows.json<{ Body: string; c: string }>();
      const stored = await countRows(ch, tag);
      // Every acknowledged request is there; requests cut off by the kill may or may not be.
      const storedBodies = await ch.query({ query: `SELECT DISTINCT intDiv(toUInt64(LogAttributes['seq']), ${per}) * ${per} AS f FROM otel.otel_logs WHERE Body LIKE '${tag}-%'`, format: 'JSONEachRow' });
      const storedFrom = new Set((await storedBodies.json<{ f: string }>()).map((r) => Number(r.f)));
      for (const from of acked) expect(storedFrom.has(from)).toBe(true);
      expect(stored.uniq).toBeLessThanOrEqual((acked.size + unsure.size) * per);
      expect(dups).toEqual([]);
      expect(stored.count).toBe(stored.uniq);
      expect(ackedAtKill).toBeGreaterThan(0);
      expect(ackedAtKill).toBeLessThan(30_000 / per); // killed mid-load
    } finally {
      await ch.close();
      await gateway.stop();
      await ingester.stop();
    }
  }, 300_000);
});
