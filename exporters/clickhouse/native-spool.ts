/**
 * How a Native block reaches the embedded engine. chDB's raw insert takes
 * text formats only, so the block is written to a scratch file (tmpfs when
 * the machine has one) and inserted with
 *   INSERT INTO t (cols) SELECT * FROM file('<file>', 'Native', '<structure>') SETTINGS …
 * which casts the plain column types to the table's, honours
 * insert_deduplication_token like any INSERT, and costs the engine about a
 * third of parsing the same rows as JSON (BENCHMARKS.md). The file is removed
 * once the insert settles; the directory is per process and removed on close,
 * and directories left by a process that died are swept on first use.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { NativeBlock } from './native.ts';

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

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function scratchRoot(): string {
  try {
    fs.accessSync('/dev/shm', fs.constants.W_OK);
    return '/dev/shm';
  } catch {
    return os.tmpdir();
  }
}

export class NativeSpool {
  private dir: string | undefined;
  private seq = 0;

  constructor(private readonly root: string = scratchRoot()) {}

  private directory(): string {
    if (this.dir) return this.dir;
    for (const name of fs.readdirSync(this.root)) {
      const pid = Number(name.startsWith(PREFIX) ? name.slice(PREFIX.length) : NaN);
      if (Number.isInteger(pid) && pid !== process.pid && !alive(pid)) fs.rmSync(path.join(this.root, name), { recursive: true, force: true });
    }
    const dir = path.join(this.root, PREFIX + process.pid);
    fs.mkdirSync(dir, { recursive: true });
    this.dir = dir;
    return dir;
  }

  async insert(
    req: { table: string; columns?: readonly string[]; block: NativeBlock; settings: Record<string, string | number>; signal?: AbortSignal },
    run: (sql: string, signal?: AbortSignal) => Promise<unknown>,
  ): Promise<void> {
    if (!req.columns?.length) throw new Error('a Native insert needs its column list');
    const file = path.join(this.directory(), `${++this.seq}.native`);
    try {
      const fh = await fs.promises.open(file, 'w');
      try {
        const { bytesWritten } = await fh.writev(req.block.chunks);
        if (bytesWritten !== req.block.bytes) throw new Error(`short write of a Native block to ${file}: ${bytesWritten} of ${req.block.bytes} bytes`);
      } finally {
        await fh.close();
      }
      await run(nativeInsertSql(req.table, req.columns, file, req.block.structure, req.settings), req.signal);
    } finally {
      await fs.promises.rm(file, { force: true });
    }
  }

  close(): void {
    if (this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}
