// The Kafka broker for tests: KAFKA_BROKERS when set (CI with its own broker,
// a developer's cluster), otherwise the local single-node broker from
// scripts/kafka.sh, started on first use and left running for the next run.
// There is no skip path: a test that needs Kafka and cannot have it fails with
// the reason.
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Kafka, logLevel } from 'kafkajs';
import { codecRegistry } from '../lib/kafka/codecs.ts';

const SCRIPT = fileURLToPath(new URL('../scripts/kafka.sh', import.meta.url));
// The first run fetches ~50 MB of jars with Maven; later starts take seconds.
const START_TIMEOUT_MS = 10 * 60_000;

// kafkajs warns once per producer about its v2 partitioner change; tests don't care.
process.env.KAFKAJS_NO_PARTITIONER_WARNING ??= '1';

let pending: Promise<string> | undefined;
// Brokers this file's ensureKafka() answered with, and every name uniqueTopic()
// handed out (topics and group ids alike): the ones that became topics there
// are deleted after the file (below), so a long-lived dev broker does
// not collect thousands of partitions (a broker loading ~8,000 of them took
// over 90 s to start).
let ensuredBrokers: string | undefined;
const handedOut = new Set<string>();

/** Broker list (comma-separated host:port) of a broker that answers. */
export function ensureKafka(): Promise<string> {
  pending ??= resolveBrokers().then((b) => (ensuredBrokers = b));
  // A failed attempt is not cached: the next test file gets its own try and error.
  pending.catch(() => {
    pending = undefined;
  });
  return pending;
}

async function resolveBrokers(): Promise<string> {
  const fromEnv = process.env.KAFKA_BROKERS?.trim();
  if (fromEnv) {
    await waitForBroker(fromEnv, 'KAFKA_BROKERS');
    return fromEnv;
  }
  // The script holds a lock and answers "already running" when it is, so
  // parallel test files (separate processes) start the broker only once.
  await runScript('start');
  const brokers = `127.0.0.1:${process.env.KAFKA_PORT || '9092'}`;
  await waitForBroker(brokers, 'scripts/kafka.sh');
  return brokers;
}

function runScript(command: string): Promise<void> {
  return new Promise((resolve, reject) => {
    execFile(
      'bash',
      [SCRIPT, command],
      { timeout: START_TIMEOUT_MS, maxBuffer: 4 * 1024 * 1024, env: process.env },
      (err, stdout, stderr) => {
        if (!err) return resolve();
        const detail = `${stderr}${stdout}`.trim().split('\n').slice(-20).join('\n');
        reject(
          new Error(
            `Kafka is not available: KAFKA_BROKERS is not set and \`bash scripts/kafka.sh ${command}\` failed ` +
              `(${err.killed ? `timed out after ${START_TIMEOUT_MS / 1000}s` : `exit ${String(err.code)}`}). ` +
              `It needs java 17+ and mvn (Maven Central reachable) on the first run.\n${detail}`,
          ),
        );
      },
    );
  });
}

// The broker may be up but still electing itself or loading metadata: ask it
// for the cluster description until it answers, within a bound.
async function waitForBroker(brokers: string, source: string): Promise<void> {
  const admin = testKafka(brokers, 'trailhouse-test-probe').admin();
  const deadline = Date.now() + 60_000;
  let lastError: unknown;
  while (Date.now() < deadline) {
    try {
      await admin.connect();
      await admin.describeCluster();
      await admin.disconnect();
      return;
    } catch (err) {
      lastError = err;
      await admin.disconnect().catch(() => undefined);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  throw new Error(
    `Kafka at ${brokers} (from ${source}) did not answer within 60s: ${
      lastError instanceof Error ? lastError.message : String(lastError)
    }`,
  );
}

/**
 * A kafkajs client for tests. Quiet by default: kafkajs logs retriable broker
 * answers (coordinator loading, leader election on a fresh topic) as errors.
 * Set KAFKAJS_LOG=debug|info|warn|error to see them.
 */
export function testKafka(brokers: string, clientId = 'trailhouse-test'): Kafka {
  // The lz4, snappy and zstd codecs, as the pipeline's own clients have them.
  codecRegistry();
  const levels: Record<string, logLevel> = {
    debug: logLevel.DEBUG,
    info: logLevel.INFO,
    warn: logLevel.WARN,
    error: logLevel.ERROR,
  };
  return new Kafka({
    clientId,
    brokers: brokers.split(',').map((b) => b.trim()),
    logLevel: levels[process.env.KAFKAJS_LOG ?? ''] ?? logLevel.NOTHING,
    retry: { retries: 10, initialRetryTime: 100 },
  });
}

/**
 * Creates `topics` with `partitions` each and waits for their leaders. A
 * broker that just started can answer the leader wait with
 * UNKNOWN_TOPIC_OR_PARTITION for a while (its metadata not yet caught up);
 * kafkajs gives up after its own retries, so the whole call is tried again
 * (creating an existing topic is a no-op) for up to 60 s.
 */
export async function createTopics(brokers: string, topics: readonly string[], partitions: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const admin = testKafka(brokers).admin();
    try {
      await admin.connect();
      await admin.createTopics({ topics: topics.map((topic) => ({ topic, numPartitions: partitions })), waitForLeaders: true });
      // A loaded broker may still answer metadata without them for a moment (a
      // producer then fails with "does not host this topic-partition"): wait
      // until the metadata shows every partition led.
      for (;;) {
        const md = await admin.fetchTopicMetadata({ topics: [...topics] }).catch(() => undefined);
        if (md && md.topics.length === topics.length && md.topics.every((t) => t.partitions.length === partitions && t.partitions.every((p) => p.leader >= 0))) return;
        if (Date.now() > deadline) throw new Error(`topics ${topics.join(', ')} have no leaders after 60 s`);
        await new Promise((r) => setTimeout(r, 200));
      }
    } catch (err) {
      if (!(err as { retriable?: boolean }).retriable || Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, 500));
    } finally {
      await admin.disconnect().catch(() => undefined);
    }
  }
}

let counter = 0;

/** A topic name no other test (in this run, a parallel run or an earlier run) has used. */
export function uniqueTopic(prefix = 'test'): string {
  const safe = prefix.replace(/[^a-zA-Z0-9._-]/g, '-').slice(0, 100) || 'test';
  counter += 1;
  const name = `${safe}-${process.pid}-${Date.now().toString(36)}-${counter}-${randomBytes(3).toString('hex')}`;
  handedOut.add(name);
  return name;
}

/**
 * Deletes, on the broker ensureKafka() gave this file, the topics named by
 * uniqueTopic() that exist there. Best effort: a broker that is gone or slow
 * only leaves them behind.
 */
export async function deleteTestTopics(): Promise<void> {
  if (!ensuredBrokers || handedOut.size === 0) return;
  const admin = testKafka(ensuredBrokers, 'trailhouse-test-cleanup').admin();
  try {
    await admin.connect();
    const existing = new Set(await admin.listTopics());
    const topics = [...handedOut].filter((t) => existing.has(t));
    handedOut.clear();
    if (topics.length > 0) await admin.deleteTopics({ topics, timeout: 30_000 });
  } catch {
    // left behind; `npm run kafka:reset` wipes a dev broker
  } finally {
    await admin.disconnect().catch(() => undefined);
  }
}

// Under vitest, every test file that imports this module deletes its topics
// when it is done (registered while the file is collected, so it runs after
// the file's own afterAll hooks). The Kafka bench imports it outside vitest.
if (process.env.VITEST) {
  const { afterAll } = await import('vitest');
  afterAll(deleteTestTopics, 60_000);
}
