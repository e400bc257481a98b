// The extension behind the exporter helper: `sending_queue: {storage: file_storage}`.
import { appendFileSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Factory } from '../../core/component.ts';
import { createExporter, type PushContext } from '../../core/exporter-helper.ts';
import { helperDefaults, type ExporterHelperConfig } from '../../core/exporter-helper-config.ts';
import { RefusedError } from '../../core/errors.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { settingsFor } from '../../test/component-config.ts';
import { sampleLogs, testHost, testLogger, waitFor } from '../../test/helpers.ts';
import { fileStorageFactory, type FileStorageConfig } from './file-storage.ts';
import { scanSegment } from './record.ts';
import { Payload } from '../../core/payload.ts';
import type { LogsPayload } from '../../core/payload.ts';

/** The frames in a queue directory's segments, in order. */
function framesIn(qdir: string): Array<{ segment: string; off: number }> {
  const segs = readdirSync(qdir).filter((f) => f.endsWith('.seg')).sort();
  return segs.flatMap((segment) => scanSegment(readFileSync(join(qdir, segment))).records.map((r) => ({ segment, off: r.off })));
}

function helperConfig(): ExporterHelperConfig {
  const c = helperDefaults({ timeout: 1_000, retry: { initial_interval: 20, max_interval: 50, max_elapsed_time: 0 }, queue: { num_consumers: 1, storage: 'file_storage' } });
  return c;
}

describe('file_storage extension', () => {
  it('an exporter queue on it: batches not yet sent at shutdown are sent after the restart, with their tokens', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'th-fs-')), 'queue');
    const storage = () => fileStorageFactory.create(settingsFor<FileStorageConfig>(fileStorageFactory as Factory, { directory: dir }));
    const pushed: Array<{ token: string; n: number }> = [];
    let down = true;
    const tried = new Set<string>();
    const pusher = {
      async pushLogs(payload: LogsPayload, ctx: PushContext) {
        const data = payload.records();
        if (down) {
          tried.add(ctx.dedupToken);
          throw new Error('downstream unavailable');
        }
        pushed.push({ token: ctx.dedupToken, n: data.resourceLogs[0]!.scopeLogs[0]!.logRecords.length });
      },
    };
    const settings = { id: 'kafka/gw', config: helperConfig(), logger: testLogger(), metrics: new MetricsRegistry() };
    const s1 = storage();
    await s1.start(testHost());
    const e1 = createExporter(settings, pusher);
    await e1.start(testHost({ file_storage: s1 }));
    for (let i = 1; i <= 3; i++) await e1.consumeLogs(Payload.logs(sampleLogs(i)));
    await e1.shutdown();
    await s1.shutdown();
    expect(pushed).toHaveLength(0);

    down = false;
    const s2 = storage();
    await s2.start(testHost());
    const e2 = createExporter({ ...settings, metrics: new MetricsRegistry() }, pusher);
    await e2.start(testHost({ file_storage: s2 }));
    await waitFor(() => pushed.length === 3, 20_000, 'replayed batches');
    expect(pushed.map((p) => p.n).sort()).toEqual([1, 2, 3]);
    expect(new Set(pushed.map((p) => p.token)).size).toBe(3);
    // The first attempt (before the restart) used the same tokens.
    expect(tried.size).toBeGreaterThanOrEqual(1);
    for (const t of tried) expect(pushed.map((p) => p.token)).toContain(t);
    await e2.shutdown();
    await s2.shutdown();
  });

  it('with sending_queue.batch, a group not acknowledged before a restart is pushed again whole, with its token', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'th-fs-')), 'queue');
    const storage = () => fileStorageFactory.create(settingsFor<FileStorageConfig>(fileStorageFactory as Factory, { directory: dir }));
    const pushes: Array<{ token: string; bodies: string[] }> = [];
    let down = true;
    const pusher = {
      async pushLogs(payload: LogsPayload, ctx: PushContext) {
        const data = payload.records();
        const bodies = data.resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => `${rl.resource.attributes[0]!.value as string}/${r.body as string}`)));
        pushes.push({ token: ctx.dedupToken, bodies });
        if (down) throw new RefusedError('downstream unavailable', 'shutting_down');
      },
    };
    const config = helperConfig();
    // The group closes at min_size; a flush_timeout far above three fsynced
    // queue writes keeps a loaded machine from closing it early.
    config.sending_queue.batch = { flush_timeout: 3000, min_size: 6, max_size: 0, sizer: 'items' };
    const settings = { id: 'spool', config, logger: testLogger(), metrics: new MetricsRegistry() };
    const s1 = storage();
    await s1.start(testHost());
    const e1 = createExporter(settings, pusher);
    await e1.start(testHost({ file_storage: s1 }));
    // Three batches of 2 records: one group of 6, one file per batch.
    for (const svc of ['a', 'b', 'c']) await e1.consumeLogs(Payload.logs(sampleLogs(2, svc)));
    await waitFor(() => pushes.length >= 1, 5_000, 'a first attempt');
    await e1.shutdown();
    await s1.shutdown();
    const first = pushes[0]!;
    expect(first.bodies).toEqual(['a/request 0', 'a/request 1', 'b/request 0', 'b/request 1', 'c/request 0', 'c/request 1']);
    const qdir = join(dir, 'spool');
    const frames = framesIn(qdir);
    expect(frames).toHaveLength(3);

    // A crash in the middle of acknowledging: the last member's ack is written already.
    const ack = Buffer.alloc(8);
    ack.writeDoubleLE(frames[2]!.off);
    appendFileSync(join(qdir, `${frames[2]!.segment}.ack`), ack);
    down = false;
    pushes.length = 0;
    const s2 = storage();
    await s2.start(testHost());
    const e2 = createExporter({ ...settings, metrics: new MetricsRegistry() }, pusher);
    await e2.start(testHost({ file_storage: s2 }));
    await waitFor(() => pushes.length === 1, 20_000, 'the replayed group');
    // The members left, in their order, as one push under the group's token: the store drops it as a copy.
    expect(pushes[0]).toEqual({ token: first.token, bodies: first.bodies.slice(0, 4) });
    await waitFor(() => readdirSync(qdir).filter((f) => f.endsWith('.seg')).length === 0, 5_000, 'the group acknowledged, its segment deleted');
    await e2.shutdown();
    await s2.shutdown();
  });

  it('on replay, batches sharing a token not made by sending_queue.batch are not joined', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'th-fs-')), 'queue');
    const storage = () => fileStorageFactory.create(settingsFor<FileStorageConfig>(fileStorageFactory as Factory, { directory: dir }));
    const pushes: Array<{ token: string; n: number }> = [];
    let down = true;
    const pusher = {
      async pushLogs(payload: LogsPayload, ctx: PushContext) {
        const data = payload.records();
        if (down) throw new RefusedError('downstream unavailable', 'shutting_down');
        pushes.push({ token: ctx.dedupToken, n: data.resourceLogs[0]!.scopeLogs[0]!.logRecords.length });
      },
    };
    const settings = { id: 'spool', config: helperConfig(), logger: testLogger(), metrics: new MetricsRegistry() };
    const s1 = storage();
    await s1.start(testHost());
    const e1 = createExporter(settings, pusher);
    await e1.start(testHost({ file_storage: s1 }));
    // A redelivered Kafka batch queued twice: one token, two files.
    for (const n of [2, 2]) await e1.consumeLogs(Object.assign(Payload.logs(sampleLogs(n)), { dedupToken: 'kafka:t:0:10-11:0' }));
    await e1.shutdown();
    await s1.shutdown();
    down = false;
    const s2 = storage();
    await s2.start(testHost());
    const e2 = createExporter({ ...settings, metrics: new MetricsRegistry() }, pusher);
    await e2.start(testHost({ file_storage: s2 }));
    await waitFor(() => pushes.length === 2, 20_000, 'both replayed');
    expect(pushes).toEqual([{ token: 'kafka:t:0:10-11:0', n: 2 }, { token: 'kafka:t:0:10-11:0', n: 2 }]);
    await e2.shutdown();
    await s2.shutdown();
  });

  it('names queue directories after exporter ids', async () => {
    const { queueDirName } = await import('./file-storage.ts');
    expect(queueDirName('kafka/gw')).toBe('kafka_gw');
  });

  it('counts its commits and fsyncs as self-metrics: concurrent offers share them', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'th-fs-')), 'queue');
    const metrics = new MetricsRegistry();
    const ext = fileStorageFactory.create(settingsFor<FileStorageConfig>(fileStorageFactory as Factory, { directory: dir }, { metrics })) as unknown as {
      start(): Promise<void>;
      openQueue(name: string, capacity: number, logger: ReturnType<typeof testLogger>): Promise<{ offer(i: unknown): Promise<void> }>;
      shutdown(): Promise<void>;
    };
    await ext.start();
    const q = await ext.openQueue('spool', 1000, testLogger());
    const item = (i: number) => ({ signal: 'logs', data: Payload.logs(sampleLogs(2)), count: 2, dedupToken: `t${i}` });
    await Promise.all(Array.from({ length: 200 }, (_, i) => q.offer(item(i))));
    const text = metrics.exposition();
    const commits = metrics.read('trailhouse_queue_commits', { exporter: 'spool' });
    const fsyncs = metrics.read('trailhouse_queue_fsyncs', { exporter: 'spool' });
    expect(text).toContain('trailhouse_queue_commits{exporter="spool"}');
    expect(commits).toBeGreaterThan(0);
    expect(commits).toBeLessThan(200);
    // One per commit, plus the directory's when the first segment was made.
    expect(fsyncs).toBe(commits + 1);
    // Where an acknowledgement waits: the commits' fsyncs are timed.
    expect(metrics.read('trailhouse_queue_fsync_seconds', { exporter: 'spool' })).toBeGreaterThan(0);
    expect(metrics.read('trailhouse_queue_fsync_longest_seconds', { exporter: 'spool' })).toBeGreaterThan(0);
    // The longest is over the last window, not per reading: a second reader sees it too.
    const longest = metrics.read('trailhouse_queue_fsync_longest_seconds', { exporter: 'spool' });
    expect(longest).toBeLessThanOrEqual(metrics.read('trailhouse_queue_fsync_seconds', { exporter: 'spool' }));
    expect(longest).toBeGreaterThanOrEqual(metrics.read('trailhouse_queue_fsync_seconds', { exporter: 'spool' }) / fsyncs);
    metrics.exposition();
    expect(metrics.read('trailhouse_queue_fsync_longest_seconds', { exporter: 'spool' })).toBe(longest);
    await ext.shutdown();
  });
});
