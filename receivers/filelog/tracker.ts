/**
 * Which files are which: stanza's identity by fingerprint. A file is known
 * by its first `fingerprint_size` bytes (fewer while it is shorter), so a
 * file moved or renamed (rotation by move/create) keeps its offset, a copy
 * of a file we were reading (copytruncate's `.1`) carries on from our
 * offset, and a truncated or rewritten file is a new one, read from its start.
 *
 * Open handles are kept across polls (a file moved out of the globs is read
 * to its end through the handle), at most `max_concurrent_files` of them.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Logger } from '../../core/telemetry/logger.ts';

export interface Tracked {
  fp: Buffer;
  /** Committed: everything before it was accepted by the next stage. */
  offset: number;
  path: string;
  fh: FileHandle | undefined;
  dev: number;
  ino: number;
  /** Poll generation it was last found by the globs at. */
  seen: number;
  /** Size last seen, and since when (force_flush_period). */
  lastSize: number;
  sizeSince: number;
  /** Poll generation it was last read at: with more files than max_concurrent_files, the least recently read go first. */
  readAt: number;
  /** Its size and mtime when the poll of generation `sizeGen` looked at it (saves the reader a stat of its own in that poll). */
  size: number;
  mtimeMs: number;
  sizeGen: number;
}

/** Polls a known file is remembered for after it was last seen (its copy may still show up). */
const REMEMBER_POLLS = 3;

/** The first n bytes of a file, in `scratch` (copy them to keep them). */
async function readHead(fh: FileHandle, n: number, scratch: Buffer): Promise<Buffer> {
  const { bytesRead } = await fh.read(scratch, 0, n, 0);
  return scratch.subarray(0, bytesRead);
}

const startsWith = (b: Buffer, prefix: Buffer) => b.length >= prefix.length && b.compare(prefix, 0, prefix.length, 0, prefix.length) === 0;

export class Tracker {
  readonly files: Tracked[] = [];
  gen = 0;
  private readonly head: Buffer;

  constructor(
    private readonly fpSize: number,
    private readonly maxOpen: number,
    private readonly log: Logger,
  ) {
    this.head = Buffer.allocUnsafe(fpSize);
  }

  /** A file known from saved offsets (opened when the globs find it). */
  restore(fp: Buffer, offset: number, path: string): Tracked {
    const t: Tracked = { fp, offset, path, fh: undefined, dev: -1, ino: -1, seen: 0, lastSize: -1, sizeSince: 0, readAt: 0, size: 0, mtimeMs: 0, sizeGen: 0 };
    this.files.push(t);
    return t;
  }

  /**
   * Matches the paths the globs found to known files, opening new ones;
   * `newOffset` says where a file never seen before starts. Returns the
   * files to read this poll: those found, and those still open elsewhere
   * (moved out of the globs, deleted) until read to their end.
   */
  async poll(paths: readonly string[], newOffset: (size: number) => number): Promise<Tracked[]> {
    const gen = ++this.gen;
    const byInode = new Map<string, Tracked>();
    for (const t of this.files) if (t.fh) byInode.set(`${t.dev}:${t.ino}`, t);
    const claimed = new Set<Tracked>();
    const unknown: string[] = [];
    for (const path of paths) {
      let st;
      try {
        st = await stat(path);
      } catch {
        continue;
      }
      if (!st.isFile()) continue;
      const t = byInode.get(`${st.dev}:${st.ino}`);
      if (!t || claimed.has(t)) {
        unknown.push(path);
        continue;
      }
      // Same inode, size and mtime as at the last poll: not written to since, its fingerprint is as it was.
      const unchanged = t.sizeGen > 0 && st.size === t.size && st.mtimeMs === t.mtimeMs;
      const head = unchanged ? t.fp : await readHead(t.fh!, Math.min(this.fpSize, st.size), this.head);
      if (st.size < t.offset || !startsWith(head, t.fp)) {
        // Truncated or rewritten in place: what we knew is gone from here
        // (a copy of it may appear: copytruncate); this content is a new file.
        await this.close(t);
        unknown.push(path);
        continue;
      }
      if (head.length > t.fp.length) t.fp = Buffer.from(head);
      t.mtimeMs = st.mtimeMs;
      t.path = path;
      t.seen = gen;
      t.size = st.size;
      t.sizeGen = gen;
      claimed.add(t);
    }
    for (const path of unknown) {
      let fh: FileHandle | undefined;
      try {
        fh = await open(path, 'r');
        const st = await fh.stat();
        if (st.size === 0) {
          // Nothing to identify it by yet: looked at again next poll.
          await fh.close();
          continue;
        }
        const head = Buffer.from(await readHead(fh, Math.min(this.fpSize, st.size), this.head));
        let match: Tracked | undefined;
        for (const t of this.files) {
          if (claimed.has(t) || !startsWith(head, t.fp)) continue;
          if (!match || t.fp.length > match.fp.length) match = t;
        }
        if (match?.fh) {
          // A copy of a file still open under another name: read once, through the handle.
          await fh.close();
          continue;
        }
        if (match && st.size >= match.offset) {
          Object.assign(match, { fh, fp: head.length > match.fp.length ? head : match.fp, path, dev: st.dev, ino: st.ino, seen: gen, size: st.size, mtimeMs: st.mtimeMs, sizeGen: gen });
          claimed.add(match);
        } else {
          const t: Tracked = { fp: head, offset: newOffset(st.size), path, fh, dev: st.dev, ino: st.ino, seen: gen, lastSize: -1, sizeSince: 0, readAt: 0, size: st.size, mtimeMs: st.mtimeMs, sizeGen: gen };
          this.files.push(t);
          claimed.add(t);
        }
        fh = undefined;
      } catch (err) {
        this.log.warn('cannot open a file to tail', { path, error: (err as NodeJS.ErrnoException).code ?? err });
      } finally {
        await fh?.close().catch(() => undefined);
      }
    }
    // Forget files gone for a while; close handles beyond the limit, those not found first.
    for (let i = this.files.length - 1; i >= 0; i--) {
      const t = this.files[i]!;
      if (!t.fh && gen - t.seen > REMEMBER_POLLS) this.files.splice(i, 1);
    }
    const opened = this.files.filter((t) => t.fh);
    if (opened.length > this.maxOpen) {
      // Closed first: files the globs no longer find, then the most recently read (they had their turn).
      opened.sort((a, b) => Number(claimed.has(a)) - Number(claimed.has(b)) || b.readAt - a.readAt);
      for (const t of opened.slice(0, opened.length - this.maxOpen)) await this.close(t);
    }
    const out = this.files.filter((t) => t.fh);
    for (const t of out) t.readAt = gen;
    return out;
  }

  /** The files open now: what a poll between scans reads (no glob matched, no path stat'ed). */
  openFiles(): Tracked[] {
    return this.files.filter((t) => t.fh);
  }

  /**
   * A file about to be read between scans, checked through its handle: its
   * size, or -1 when it was truncated or rewritten in place since it was last
   * checked (not read then: the next scan sorts it out, as poll() does).
   */
  async checkOpen(t: Tracked): Promise<number> {
    const st = await t.fh!.stat();
    if (st.size < t.offset) return -1;
    if (st.size === t.size && st.mtimeMs === t.mtimeMs) return st.size;
    const head = await readHead(t.fh!, Math.min(this.fpSize, st.size), this.head);
    if (!startsWith(head, t.fp)) return -1;
    if (head.length > t.fp.length) t.fp = Buffer.from(head);
    t.size = st.size;
    t.mtimeMs = st.mtimeMs;
    return st.size;
  }

  /** A file read to its end that the globs no longer find is let go. */
  async doneWith(t: Tracked): Promise<void> {
    if (t.seen !== this.gen) await this.close(t);
  }

  async close(t: Tracked): Promise<void> {
    const fh = t.fh;
    t.fh = undefined;
    t.dev = t.ino = -1;
    await fh?.close().catch(() => undefined);
  }

  async closeAll(): Promise<void> {
    for (const t of this.files) await this.close(t);
  }
}
