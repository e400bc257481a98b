/**
 * A persistent sending queue: an append-only log of segment files in its
 * own directory, with group commit.
 *
 * `offer` encodes the batch as a frame (record.ts) and joins the writes
 * waiting to go out. One commit at a time appends every waiting frame to the
 * active segment with one write and makes them durable with one fdatasync;
 * offers that arrive meanwhile wait for the next commit, and share its
 * fsync. Each `offer` resolves only after the fsync covering its frame, so a
 * batch acknowledged to a sender survives kill -9 and power loss, and many
 * concurrent senders cost one fsync per commit, not two per request (what a
 * file per batch cost: the file and its directory). The active segment rolls
 * once it reaches `segmentBytes`; only creating a segment fsyncs the
 * directory.
 *
 * `ack(item, true)` notes the frame in the segment's ack file (segment.ts:
 * not fsynced; a lost ack replays a batch under its token, which downstream
 * deduplicates); a segment is deleted once every frame in it is acknowledged
 * and it is no longer appended to. `ack(item, false)` leaves the frame for
 * the next start, which replays the segments in order, skipping acknowledged
 * frames and cutting a torn tail (replay.ts). Unreadable data is set aside
 * as `.corrupt` and reported.
 *
 * Batches joined by the queue's `batch` setting (core/queue/batching.ts) are
 * stored one frame each under their group's token (`batch:…`). Replay hands
 * each stored group on as one item, its members in order, so a group is
 * pushed again exactly as it was before a crash; whichever members were not
 * acknowledged yet carry the group's token, so the store drops the copy.
 *
 * A LOCK file holding our pid keeps a second process off the same queue.
 */
import { mkdir, open, readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RefusedError } from '../../core/errors.ts';
import type { BatchQueue, QueueItem } from '../../core/queue/memory-queue.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import { LatencyWindow } from '../../core/telemetry/latency-window.ts';
import { decodeRecord, encodeRecordParts } from './record.ts';
import { Payload } from '../../core/payload.ts';
import { GROUP_TOKEN_PREFIX, joinGroup } from '../../core/queue/batching.ts';
import { pidAlive } from '../../core/pid.ts';
import { replay, segmentName } from './replay.ts';
import { Segment } from './segment.ts';
import { afterWrite } from './written.ts';

/** Where a frame lies: an item's `ref`. */
interface Rec {
  seg: Segment;
  off: number;
  len: number;
}

interface Entry {
  rec: Rec;
  /** Kept in memory when offered in this process; read from disk on replay. */
  item?: QueueItem;
  /** On replay, the other members of this entry's group (in order). */
  more?: Rec[];
}

/** An offer waiting for its commit. */
interface Write {
  item: QueueItem;
  parts: Uint8Array[];
  bytes: number;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export interface FileQueueOptions {
  /** fsync before an offer resolves (default true). */
  fsync?: boolean;
  /** Taken items carry the bytes written (see afterWrite). */
  keepRaw?: boolean;
  /** Roll the active segment once it holds this many bytes (default 32 MiB). */
  segmentBytes?: number;
}

const DEFAULT_SEGMENT_BYTES = 32 << 20;

async function fsyncPath(path: string): Promise<void> {
  const fh = await open(path, 'r');
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function takeLock(dir: string): Promise<void> {
  const lock = join(dir, 'LOCK');
  try {
    const other = Number((await readFile(lock, 'utf8')).trim());
    if (Number.isInteger(other) && other !== process.pid && pidAlive(other)) {
      throw new Error(`queue directory ${dir} is in use by process ${other}`);
    }
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  await writeFile(lock, `${process.pid}\n`);
}

const isRec = (ref: unknown): ref is Rec => typeof ref === 'object' && ref !== null && (ref as Rec).seg instanceof Segment;

export class FileQueue implements BatchQueue {
  private pending: Array<Entry | undefined> = [];
  private head = 0;
  private waiters: Array<(i: QueueItem | undefined) => void> = [];
  private closed = false;
  /** Offers not yet durable: they count against the capacity already. */
  private writes: Write[] = [];
  private writing = 0;
  private committing: Promise<void> | undefined;
  private active: Segment | undefined;
  private readonly segments = new Set<Segment>();
  private nextSegment = 1;
  /**
   * Commits (writes) and fsyncs done, for tests and metrics; the time spent in
   * writes and fsyncs, and each fsync's duration over the metrics' sliding window.
   */
  readonly stats = { commits: 0, fsyncs: 0, writeSeconds: 0, fsyncSeconds: 0, recentFsyncs: new LatencyWindow() };
  private readonly fsync: boolean;
  private readonly keepRaw: boolean;
  private readonly segmentBytes: number;
  /** Idempotent offers already on disk at start (core/queue/once.ts). */
  private onceTokens: ReadonlySet<string> = new Set();

  private constructor(
    readonly dir: string,
    private readonly capacity: number,
    private readonly logger: Logger,
    opts: FileQueueOptions,
  ) {
    this.fsync = opts.fsync ?? true;
    this.keepRaw = opts.keepRaw ?? false;
    this.segmentBytes = opts.segmentBytes ?? DEFAULT_SEGMENT_BYTES;
  }

  /**
   * `keepRaw`: a taken item's data carries the protobuf bytes that were
   * written (Payload.bytes()), whether it was offered in this process or replayed
   * from disk, so an exporter building messages from them gets the same
   * bytes, hence the same messages, on a first attempt and on a replay.
   */
  static async open(dir: string, capacity: number, logger: Logger, fsync = true, keepRaw = false, opts: FileQueueOptions = {}): Promise<FileQueue> {
    await mkdir(dir, { recursive: true });
    await takeLock(dir);
    const q = new FileQueue(dir, capacity, logger, { ...opts, fsync, keepRaw });
    const r = await replay(dir, logger);
    q.nextSegment = r.nextSegment;
    q.onceTokens = r.onceTokens;
    for (const s of r.segments) q.segments.add(s);
    // Members of one group (core/queue/batching.ts) replay as one entry.
    const groups = new Map<string, Entry>();
    for (const f of r.found) {
      const rec: Rec = { seg: f.seg, off: f.off, len: f.len };
      const key = f.token.startsWith(GROUP_TOKEN_PREFIX) ? `${f.signal}/${f.token}` : undefined;
      const first = key === undefined ? undefined : groups.get(key);
      if (first) (first.more ??= []).push(rec);
      else {
        const e: Entry = { rec };
        if (key !== undefined) groups.set(key, e);
        q.pending.push(e);
      }
    }
    if (r.found.length > 0) logger.info('replaying persisted batches', { directory: dir, batches: r.found.length, segments: r.segments.length });
    return q;
  }

  get size(): number {
    return this.pending.length - this.head;
  }

  offer(item: QueueItem): Promise<void> {
    if (this.closed) return Promise.reject(new RefusedError('sending queue is closed', 'shutting_down'));
    if (this.size + this.writing >= this.capacity) return Promise.reject(new RefusedError('sending queue is full', 'queue_full', 1));
    if (this.onceTokens.has(item.dedupToken)) {
      this.logger.info('a batch offered again after a restart is already queued; not stored twice', { token: item.dedupToken });
      return Promise.resolve();
    }
    let parts: Uint8Array[];
    try {
      parts = encodeRecordParts(item);
    } catch (err) {
      return Promise.reject(err);
    }
    let bytes = 0;
    for (const p of parts) bytes += p.length;
    this.writing++;
    return new Promise<void>((resolve, reject) => {
      this.writes.push({ item, parts, bytes, resolve, reject });
      this.committing ??= this.commitAll();
    });
  }

  /** Commits until no offer waits (one commit at a time: see the header). */
  private async commitAll(): Promise<void> {
    try {
      while (this.writes.length > 0) await this.commitOne();
    } finally {
      // No await between the loop's last check and here: an offer arriving later starts a new run.
      this.committing = undefined;
    }
  }

  private async commitOne(): Promise<void> {
    // At most a segment's worth per commit, so a segment stays near its size.
    let n = 0;
    let bytes = 0;
    while (n < this.writes.length && (n === 0 || bytes + this.writes[n]!.bytes <= this.segmentBytes)) bytes += this.writes[n++]!.bytes;
    const batch = this.writes.splice(0, n);
    let seg: Segment | undefined;
    let start = 0;
    try {
      seg = await this.segmentFor();
      start = seg.size;
      const bufs: Uint8Array[] = [];
      for (const w of batch) for (const p of w.parts) bufs.push(p);
      // A regular file takes a (positioned) writev whole; a short write would be a damaged frame.
      const t0 = performance.now();
      const { bytesWritten } = await seg.fh!.writev(bufs, start);
      if (bytesWritten !== bytes) throw new Error(`short write to ${seg.path}: ${bytesWritten} of ${bytes} bytes`);
      const t1 = performance.now();
      this.stats.commits++;
      this.stats.writeSeconds += (t1 - t0) / 1000;
      if (this.fsync) {
        await seg.fh!.datasync();
        const took = (performance.now() - t1) / 1000;
        this.stats.fsyncs++;
        this.stats.fsyncSeconds += took;
        this.stats.recentFsyncs.record(took);
      }
    } catch (err) {
      this.writing -= batch.length;
      for (const w of batch) w.reject(err);
      // The segment's end is in doubt (after a failed fsync, so is what the
      // kernel still holds of it): cut what this commit wrote and go on in a
      // new segment. A frame that stays anyway was refused to its sender:
      // at worst a duplicate, never a loss.
      if (seg) await this.retire(seg, start).catch((e: unknown) => this.logger.error('cannot close a queue segment after a failed write', { file: seg!.path, error: e }));
      return;
    }
    seg.size = start + bytes;
    seg.records += batch.length;
    let off = start;
    for (const w of batch) {
      const rec: Rec = { seg, off, len: w.bytes };
      off += w.bytes;
      const item: QueueItem = { ...afterWrite(w.item, w.parts, this.keepRaw), ref: rec };
      w.parts = [];
      this.writing--;
      const waiter = this.waiters.shift();
      if (waiter) waiter(item);
      else this.pending.push({ rec, item });
      w.resolve();
    }
  }

  /** The segment to append to, rolling to a new one at the size limit. */
  private async segmentFor(): Promise<Segment> {
    if (this.active && this.active.size < this.segmentBytes) return this.active;
    if (this.active) await this.retire(this.active);
    const seg = new Segment(this.dir, segmentName(this.nextSegment++));
    await seg.create();
    // The new file's name must survive a crash with the frames in it.
    if (this.fsync) {
      await fsyncPath(this.dir);
      this.stats.fsyncs++;
    }
    this.active = seg;
    this.segments.add(seg);
    return seg;
  }

  /** Stops appending to a segment (cut back to `cutAt` if given); deleted if nothing in it is left. */
  private async retire(seg: Segment, cutAt?: number): Promise<void> {
    if (this.active === seg) this.active = undefined;
    try {
      if (cutAt !== undefined) await seg.fh?.truncate(cutAt);
    } finally {
      await seg.closeAppend();
    }
    if (seg.done) await this.drop(seg);
  }

  private async drop(seg: Segment): Promise<void> {
    this.segments.delete(seg);
    await seg.remove();
  }

  async take(): Promise<QueueItem | undefined> {
    while (this.head < this.pending.length) {
      const e = this.pending[this.head]!;
      this.pending[this.head++] = undefined;
      if (this.head > 1024 && this.head * 2 > this.pending.length) {
        this.pending = this.pending.slice(this.head);
        this.head = 0;
      }
      if (e.item) return e.item;
      const read: QueueItem[] = [];
      for (const rec of [e.rec, ...(e.more ?? [])]) {
        const item = await this.read(rec);
        if (item) read.push(item);
      }
      if (read.length === 1) return read[0];
      // Its members stay items of their own, acknowledged one by one (the exporter helper: last first).
      if (read.length > 1) return joinGroup(read[0]!.signal, read[0]!.dedupToken, read, undefined);
    }
    if (this.closed) return undefined;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** A replayed frame as an item; undefined (set aside, reported) if it no longer reads back. */
  private async read(rec: Rec): Promise<QueueItem | undefined> {
    let buf: Buffer | undefined;
    try {
      buf = await rec.seg.read(rec.off, rec.len);
      return { ...decodeRecord(buf, this.keepRaw), ref: rec };
    } catch (err) {
      const name = buf ? await rec.seg.setAside(rec.off, buf).catch(() => undefined) : undefined;
      this.logger.error('setting aside a queued batch that cannot be read', { file: rec.seg.path, offset: rec.off, corrupt: name, error: err });
      await this.ack({ signal: 'logs', data: Payload.logs({ resourceLogs: [] }), count: 0, dedupToken: '', ref: rec }, true);
      return undefined;
    }
  }

  async ack(item: QueueItem, done: boolean): Promise<void> {
    const rec = item.ref;
    if (!done || !isRec(rec)) return;
    const seg = rec.seg;
    if (seg.deleted || seg.acked.has(rec.off)) return;
    seg.acked.add(rec.off);
    if (seg !== this.active && seg.done) return this.drop(seg);
    await seg.writeAck(rec.off);
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  async dispose(): Promise<void> {
    await this.committing;
    this.active = undefined;
    for (const s of [...this.segments]) await s.close();
    await unlink(join(this.dir, 'LOCK')).catch(() => undefined);
  }
}
