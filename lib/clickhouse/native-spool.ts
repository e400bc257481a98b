/**
 * How a Native block reaches the embedded engine. chDB's raw insert takes
 * text formats only, so the block is written to a scratch file (tmpfs when
 * the machine has one) and inserted with
 *   INSERT INTO t (cols) SELECT * FROM file('<file>', 'Native', '<structure>') SETTINGS …
 * which casts the plain column types to the table's, honours
 * insert_deduplication_token like any INSERT, and costs the engine about
 * less than parsing the same rows as JSON (docs/benchmarks-log.md). The file is removed
 * once the insert settles; the directory is per process and removed on close,
 * and directories left by a process that died are swept on first use. Files
 * go to /dev/shm when it has room (≥ 1 GiB free), else beside the engine's
 * data; a directory that fails to take a file is given up for the next.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { NativeBlock } from './native.ts';
import { pidAlive } from '../../core/pid.ts';

const PREFIX = 'trailhouse-native-';

function quote(s: string): string {
  return `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

function ident(name: string): string {
  return '`' + name.replace(/\\/g, '\\\\').replace(/`/g, '\\`') + '`';
}

/** `INSERT … SELECT * FROM file(…)` for a block written at `file`. */
export function nativeInsertSql(table: string, columns: readonly string[], file: string, structure: string, settings: Record<string, string | number>): string {
  const set = Object.entries(settings).map(([k, v]) => `${k} = ${typeof v === 'number' ? v : quote(v)}`);
  return (
    `INSERT INTO ${table} (${columns.map(ident).join(', ')}) SELECT * FROM file(${quote(file)}, 'Native', ${quote(structure)})` +
    (set.length ? ` SETTINGS ${set.join(', ')}` : '')
  );
}

/** tmpfs is only worth it with room to spare: a container's default /dev/shm is 64 MiB. */
const SHM_MIN_FREE = 1024 * 1024 * 1024;

function roomyShm(): string[] {
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    const st = fs.statfsSync('/dev/shm');
    return st.bavail * st.bsize >= SHM_MIN_FREE ? ['/dev/shm'] : [];
  } catch {
    return [];
  }
}

/**
 * Where scratch files may go, best first: tmpfs when it has room, then
 * `fallback` (the exporter passes a directory beside the engine's data:
 * where there is room for the rows, there is room for a batch of them).
 */
export function scratchRoots(fallback: string): string[] {
  return [...roomyShm(), fallback];
}

export class NativeSpool {
  private dir: string | undefined;
  /** Every directory made, removed on close (files of inserts in flight may still be in an earlier one). */
  private readonly made = new Set<string>();
  private seq = 0;
  private root = 0;

  constructor(private readonly roots: readonly string[]) {
    if (!roots.length) throw new Error('NativeSpool needs a scratch directory');
  }

  private directory(): string {
    if (this.dir) return this.dir;
    const root = this.roots[this.root]!;
    fs.mkdirSync(root, { recursive: true });
    for (const name of fs.readdirSync(root)) {
      const pid = Number(name.startsWith(PREFIX) ? name.slice(PREFIX.length) : NaN);
      if (Number.isInteger(pid) && pid !== process.pid && !pidAlive(pid)) fs.rmSync(path.join(root, name), { recursive: true, force: true });
    }
    const dir = path.join(root, PREFIX + process.pid);
    fs.mkdirSync(dir, { recursive: true });
    this.made.add(dir);
    this.dir = dir;
    return dir;
  }

  /** Writes the block to a new scratch file; a root that fails (full, read-only) is left for the next one. */
  private async write(block: NativeBlock): Promise<string> {
    for (;;) {
      let file: string | undefined;
      try {
        file = path.join(this.directory(), `${++this.seq}.native`);
        const fh = await fs.promises.open(file, 'w');
        try {
          const { bytesWritten } = await fh.writev(block.chunks);
          if (bytesWritten !== block.bytes) throw Object.assign(new Error(`short write of a Native block to ${file}: ${bytesWritten} of ${block.bytes} bytes`), { code: 'ENOSPC' });
        } finally {
          await fh.close();
        }
        return file;
      } catch (err) {
        if (file) await fs.promises.rm(file, { force: true }).catch(() => undefined);
        if (this.root + 1 >= this.roots.length) throw err;
        this.dir = undefined;
        this.root++;
      }
    }
  }

  /** The directory scratch files currently go to (tests, diagnostics). */
  get current(): string {
    return this.roots[this.root]!;
  }

  async insert(
    req: { table: string; columns?: readonly string[]; block: NativeBlock; settings: Record<string, string | number>; signal?: AbortSignal },
    run: (sql: string, signal?: AbortSignal) => Promise<unknown>,
  ): Promise<void> {
    if (!req.columns?.length) throw new Error('a Native insert needs its column list');
    const file = await this.write(req.block);
    try {
      await run(nativeInsertSql(req.table, req.columns, file, req.block.structure, req.settings), req.signal);
    } finally {
      await fs.promises.rm(file, { force: true });
    }
  }

  close(): void {
    for (const dir of this.made) fs.rmSync(dir, { recursive: true, force: true });
    this.made.clear();
    this.dir = undefined;
  }
}
