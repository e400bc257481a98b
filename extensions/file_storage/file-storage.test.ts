// The extension behind the exporter helper: `sending_queue: {storage: file_storage}`.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Factory } from '../../core/component.ts';
import { createExporter, helperDefaults, type ExporterHelperConfig, type PushContext } from '../../core/exporter-helper.ts';
import type { LogsData } from '../../core/model.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { settingsFor } from '../../test/component-config.ts';
import { sampleLogs, testHost, testLogger, waitFor } from '../../test/helpers.ts';
import { fileStorageFactory, type FileStorageConfig } from './file-storage.ts';

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
      async pushLogs(data: LogsData, ctx: PushContext) {
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
    for (let i = 1; i <= 3; i++) await e1.consumeLogs(sampleLogs(i));
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

  it('names queue directories after exporter ids', async () => {
    const { queueDirName } = await import('./file-storage.ts');
    expect(queueDirName('kafka/gw')).toBe('kafka_gw');
  });
});
