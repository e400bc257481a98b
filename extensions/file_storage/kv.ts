/**
 * A small durable value per client name (the Collector's storage client, as
 * the filelog receiver keeps its file offsets in it): `set` writes a temp
 * file, fsyncs it, renames it over the old one and fsyncs the directory, so
 * after a crash (kill -9, power loss) `get` returns either the old value or
 * the new one, whole.
 */
import { open, readFile, rename, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { KvStore } from '../../core/kv-storage.ts';


export class FileKv implements KvStore {
  private readonly file: string;
  private readonly tmp: string;
  /** Writes one at a time: two racing renames could leave the older value last. */
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly dir: string,
    name: string,
    private readonly fsync: boolean,
  ) {
    this.file = join(dir, `${name}.kv`);
    this.tmp = join(dir, `${name}.kv.tmp`);
  }

  async get(): Promise<Buffer | undefined> {
    await mkdir(this.dir, { recursive: true });
    try {
      return await readFile(this.file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  set(value: Uint8Array): Promise<void> {
    const p = this.chain.then(() => this.write(value));
    this.chain = p.catch(() => undefined);
    return p;
  }

  private async write(value: Uint8Array): Promise<void> {
    const fh = await open(this.tmp, 'w');
    try {
      await fh.write(value);
      if (this.fsync) await fh.datasync();
    } finally {
      await fh.close();
    }
    await rename(this.tmp, this.file);
    if (this.fsync) {
      const d = await open(this.dir, 'r');
      try {
        await d.sync();
      } finally {
        await d.close();
      }
    }
  }
}
