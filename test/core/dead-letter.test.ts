/**
 * A batch accepted into a persistent queue that can never be sent (a
 * PermanentError, or a TypeError thrown on one of its records) is
 * dead-lettered: kept as an OTLP request under the storage directory,
 * counted, logged once per condition. The queue goes on, and the batches
 * grouped with it after the queue (sending_queue.batch) are still sent.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createExporter } from '../../core/exporter-helper.ts';
import { helperDefaults } from '../../core/exporter-helper-config.ts';
import { PermanentError } from '../../core/errors.ts';
import { getAttr } from '../../core/model.ts';
import type { LogsPayload } from '../../core/payload.ts';
import { decodeLogsProto } from '../../core/otlp/index.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { FileStorageExtension } from '../../extensions/file_storage/file-storage.ts';
import { sampleLogs, testHost, testLogger, waitFor } from '../helpers.ts';
import { Payload } from '../../core/payload.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const servicesOf = (p: LogsPayload) => p.records().resourceLogs.map((rl) => String(getAttr(rl.resource.attributes, 'service.name')));

async function setup(fail: () => Error) {
  const dir = mkdtempSync(join(tmpdir(), 'th-dlq-'));
  dirs.push(dir);
  const storage = new FileStorageExtension({ id: 'file_storage', config: { directory: dir, fsync: false }, logger: testLogger(), metrics: new MetricsRegistry() });
  await storage.start();
  const metrics = new MetricsRegistry();
  const lines: string[] = [];
  const sent: string[] = [];
  let calls = 0;
  const cfg = helperDefaults({
    retry: { initial_interval: 5, max_interval: 10, max_elapsed_time: 0 },
    queue: { enabled: true, num_consumers: 1, storage: 'file_storage', batch: { flush_timeout: 100, min_size: 1000, max_size: 0, sizer: 'items' } },
  });
  const exp = createExporter({ id: 'spool', config: cfg, logger: testLogger(lines), metrics }, {
    pushLogs: async (d) => {
      calls++;
      if (servicesOf(d).includes('mallory')) throw fail();
      sent.push(...servicesOf(d));
    },
  });
  await exp.start(testHost({ file_storage: storage }));
  return { dir, exp, storage, metrics, lines, sent, calls: () => calls };
}

describe('dead letters', () => {
  for (const [what, fail] of [
    ['a PermanentError', () => new PermanentError('Cannot parse input: bad UTF-8 at row 3')],
    ['a TypeError on a record', () => new TypeError("Cannot read properties of undefined (reading 'key')")],
  ] as const) {
    it(`${what}: the poison is dead-lettered, the batches grouped with it are sent, the queue goes on`, async () => {
      const t = await setup(fail);
      for (const svc of ['alice', 'mallory', 'bob', 'mallory']) await t.exp.consumeLogs(Payload.logs(sampleLogs(2, svc)));
      await waitFor(() => t.sent.length === 2, 10_000, 'alice and bob sent');
      expect(t.sent.sort()).toEqual(['alice', 'bob']);
      await waitFor(() => t.metrics.read('trailhouse_exporter_dead_lettered_log_records', { exporter: 'spool' }) === 4, 10_000, 'both poisons dead-lettered');
      const dlq = join(t.dir, 'dead_letter', 'spool');
      const files = readdirSync(dlq).sort();
      expect(files.filter((f) => f.endsWith('.pb'))).toHaveLength(2);
      for (const f of files.filter((x) => x.endsWith('.pb'))) {
        expect(servicesOf(Payload.logs(decodeLogsProto(readFileSync(join(dlq, f)))))).toEqual(['mallory']);
        expect(readFileSync(join(dlq, f.replace(/\.pb$/, '.txt')), 'utf8')).toContain(fail().message);
      }
      // Logged once for the condition, not once per batch.
      expect(t.lines.filter((l) => l.includes('dead-lettered a batch') && l.includes('"level":"error"'))).toHaveLength(1);
      // Not retried: the group once, then each member once.
      expect(t.calls()).toBeLessThanOrEqual(1 + 4);
      // The queue is not blocked: a later batch goes through.
      await t.exp.consumeLogs(Payload.logs(sampleLogs(1, 'carol')));
      await waitFor(() => t.sent.includes('carol'), 10_000, 'a later batch sent');
      await t.exp.shutdown();
      await t.storage.shutdown?.();
    }, 30_000);
  }
});
