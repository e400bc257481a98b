/**
 * The file_storage extension (the Collector's `file_storage`): a directory
 * where exporters keep persistent sending queues
 * (`sending_queue: {storage: file_storage}`), one subdirectory per exporter.
 */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import type { Component, CreateSettings, ExtensionFactory } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { s } from '../../core/config/schema.ts';
import type { QueueStorage } from '../../core/exporter-helper.ts';
import type { BatchQueue } from '../../core/queue/memory-queue.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import { FileQueue } from './file-queue.ts';
import { FileKv } from './kv.ts';
import type { KvStorage, KvStore } from '../../core/kv-storage.ts';

export interface FileStorageConfig {
  /** Where queues live. Default ./data/queue. */
  directory: string;
  /** fsync each batch (file and directory) before acknowledging it. Default true. */
  fsync: boolean;
}

/** An exporter id (`kafka/gw`) as a directory name. */
export function queueDirName(name: string): string {
  return name.replace(/[^A-Za-z0-9_.-]/g, '_');
}

export class FileStorageExtension implements Component, QueueStorage, KvStorage {
  private readonly queues: FileQueue[] = [];
  constructor(private readonly settings: CreateSettings<FileStorageConfig>) {}

  get directory(): string {
    return resolve(this.settings.config.directory);
  }

  async start(): Promise<void> {
    await mkdir(this.directory, { recursive: true });
  }

  async openQueue(name: string, capacity: number, logger: Logger, opts: { keepRaw?: boolean } = {}): Promise<BatchQueue> {
    const q = await FileQueue.open(join(this.directory, queueDirName(name)), capacity, logger, this.settings.config.fsync, opts.keepRaw ?? false);
    this.queues.push(q);
    // Group commit made visible: fsyncs per commit, commits per batch (see file-queue.ts).
    const reg = this.settings.metrics;
    const commits = reg.counter('trailhouse_queue_commits', 'Writes of a persistent sending queue: each appends every batch offered since the last one.', { exporter: name });
    const fsyncs = reg.counter('trailhouse_queue_fsyncs', 'fsyncs of a persistent sending queue (one per commit, one per new segment; none with fsync: false).', { exporter: name });
    // Where an acknowledgement's time goes: the write and the fsync of its commit.
    const writeSeconds = reg.counter('trailhouse_queue_write_seconds', 'Time spent writing commits of a persistent sending queue.', { exporter: name });
    const fsyncSeconds = reg.counter('trailhouse_queue_fsync_seconds', 'Time spent in fsyncs of a persistent sending queue.', { exporter: name });
    const longest = reg.gauge('trailhouse_queue_fsync_longest_seconds', 'The longest fsync of a persistent sending queue over the last window (60s by default).', { exporter: name });
    reg.onCollect(() => {
      commits.add(q.stats.commits - commits.value);
      fsyncs.add(q.stats.fsyncs - fsyncs.value);
      writeSeconds.add(q.stats.writeSeconds - writeSeconds.value);
      fsyncSeconds.add(q.stats.fsyncSeconds - fsyncSeconds.value);
      longest.set(q.stats.recentFsyncs.quantile(1));
    });
    return q;
  }

  /** A durable value for a component (`filelog` offsets), under `kv/` in the directory. */
  async openKv(name: string): Promise<KvStore> {
    return new FileKv(join(this.directory, 'kv'), queueDirName(name), this.settings.config.fsync);
  }

  readonly shutdown = once(async () => {
    await Promise.all(this.queues.map((q) => q.dispose()));
  });
}

export const fileStorageFactory: ExtensionFactory<FileStorageConfig> = {
  kind: 'extension',
  type: 'file_storage',
  schema: s.object({ directory: s.string({ nonEmpty: true }), fsync: s.bool() }),
  defaultConfig: () => ({ directory: './data/queue', fsync: true }),
  create: (settings) => new FileStorageExtension(settings),
};
