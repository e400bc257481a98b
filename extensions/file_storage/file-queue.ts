/**
 * A persistent sending queue: one file per batch in its own directory.
 *
 * `offer` writes the batch to a temporary file, fsyncs it, renames it to
 * `<sequence>.batch` and fsyncs the directory before it resolves, so a batch
 * acknowledged to a sender survives kill -9 and power loss. `ack(item, true)`
 * deletes the file; `ack(item, false)` leaves it for the next start, which
 * replays the files in sequence order. A file that cannot be read back
 * (damaged disk) is set aside as `.corrupt` and reported once.
 *
 * Batches joined by the queue's `batch` setting (core/queue/batching.ts) are
 * stored one file each under their group's token (`batch:…`). Replay hands
 * each stored group on as one item, its members in sequence order, so a group
 * is pushed again exactly as it was before a crash. Its members are
 * acknowledged one by one, last first (core/exporter-helper.ts), so the
 * first keeps the group's token on disk until the end.
 *
 * A LOCK file holding our pid keeps a second process off the same queue.
 */
import { mkdir, open, readdir, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { RefusedError } from '../../core/errors.ts';
import type { BatchQueue, QueueItem } from '../../core/queue/memory-queue.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import { Payload, type AnyPayload } from '../../core/payload.ts';
import { decodeRecord, encodeRecordParts, readRecordHead } from './record.ts';
import { GROUP_TOKEN_PREFIX, joinGroup } from '../../core/queue/batching.ts';
import { pidAlive } from '../../core/pid.ts';

interface Entry {
  seq: number;
  /** Kept in memory when offered in this process; read from disk on replay. */
  item?: QueueItem;
  /** On replay, the other members of this entry's group (sequence order). */
  more?: number[];
}

const NAME_RE = /^(\d{16})\.batch$/;
const fileOf = (seq: number) => `${String(seq).padStart(16, '0')}.batch`;

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

/**
 * A queued item's payload as its consumer gets it in keepRaw mode: the bytes
 * written, records built only if read (core/payload.ts records()), the same
 * whether the item was offered in this process or replayed from disk. The
 * records an upstream stage decoded or built (a Zipkin or Jaeger receiver's
 * translation) can be collected once the sender is answered, instead of
 * living on, promoted, for as long as the item is in flight (behind the
 * spool, the whole correlation window).
 */
function asWritten(item: QueueItem, parts: Uint8Array[]): AnyPayload {
  const data = Payload.ofBytes(item.signal, parts, item.count, item.data.client);
  data.dedupToken = item.data.dedupToken;
  return data as AnyPayload;
}

export class FileQueue implements BatchQueue {
  private readonly pending: Entry[] = [];
  private waiters: Array<(i: QueueItem | undefined) => void> = [];
  private closed = false;
  private nextSeq = 1;
  /** Offers being written: they count against the capacity already. */
  private writing = 0;

  private constructor(
    readonly dir: string,
    private readonly capacity: number,
    private readonly fsync: boolean,
    private readonly logger: Logger,
    private readonly keepRaw: boolean,
  ) {}

  /**
   * `keepRaw`: a taken item's data carries the protobuf bytes that were
   * written (Payload.bytes()), whether it was offered in this process or replayed
   * from disk, so an exporter building messages from them gets the same
   * bytes, hence the same messages, on a first attempt and on a replay.
   */
  static async open(dir: string, capacity: number, logger: Logger, fsync = true, keepRaw = false): Promise<FileQueue> {
    await mkdir(dir, { recursive: true });
    await takeLock(dir);
    const q = new FileQueue(dir, capacity, fsync, logger, keepRaw);
    const seqs: number[] = [];
    for (const name of await readdir(dir)) {
      const m = NAME_RE.exec(name);
      if (m) seqs.push(Number(m[1]));
      else if (name.startsWith('.tmp-')) await unlink(join(dir, name)).catch(() => undefined); // never acknowledged
    }
    seqs.sort((a, b) => a - b);
    // Members of one group (core/queue/batching.ts) replay as one entry.
    const groups = new Map<string, Entry>();
    for (const seq of seqs) {
      const head = await readRecordHead(join(dir, fileOf(seq))).catch(() => undefined);
      const key = head && head.token.startsWith(GROUP_TOKEN_PREFIX) ? `${head.signal}/${head.token}` : undefined;
      const first = key === undefined ? undefined : groups.get(key);
      if (first) (first.more ??= []).push(seq);
      else {
        const e: Entry = { seq };
        if (key !== undefined) groups.set(key, e);
        q.pending.push(e);
      }
    }
    q.nextSeq = (seqs[seqs.length - 1] ?? 0) + 1;
    if (seqs.length > 0) logger.info('replaying persisted batches', { directory: dir, batches: seqs.length });
    return q;
  }

  get size(): number {
    return this.pending.length;
  }

  async offer(item: QueueItem): Promise<void> {
    if (this.closed) throw new RefusedError('sending queue is closed', 'shutting_down');
    if (this.pending.length + this.writing >= this.capacity) throw new RefusedError('sending queue is full', 'queue_full', 1);
    const seq = this.nextSeq++;
    const name = fileOf(seq);
    this.writing++;
    try {
      const tmp = join(this.dir, `.tmp-${name}`);
      const fh = await open(tmp, 'w');
      try {
        const parts = encodeRecordParts(item);
        let bytes = 0;
        for (const p of parts) bytes += p.length;
        // A regular file takes a writev whole; a short write would be a damaged record.
        const { bytesWritten } = await fh.writev(parts);
        if (bytesWritten !== bytes) throw new Error(`short write to ${tmp}: ${bytesWritten} of ${bytes} bytes`);
        // On disk now: the received bytes need not stay in memory beside the
        // records, unless the consumer builds from them: then it is handed
        // exactly what was written, as a replay would hand it (asWritten).
        if (this.keepRaw) item = { ...item, data: asWritten(item, parts.slice(1, -1)) };
        else item.data.dropBytes();
        if (this.fsync) await fh.sync();
      } finally {
        await fh.close();
      }
      await rename(tmp, join(this.dir, name));
      if (this.fsync) await fsyncPath(this.dir);
    } finally {
      this.writing--;
    }
    const entry: Entry = { seq, item: { ...item, ref: name } };
    const w = this.waiters.shift();
    if (w) return w(entry.item);
    this.pending.push(entry);
  }

  async take(): Promise<QueueItem | undefined> {
    while (this.pending.length > 0) {
      const e = this.pending.shift()!;
      if (e.item) return e.item;
      const read: QueueItem[] = [];
      for (const seq of [e.seq, ...(e.more ?? [])]) {
        const name = fileOf(seq);
        try {
          read.push({ ...decodeRecord(await readFile(join(this.dir, name)), this.keepRaw), ref: name });
        } catch (err) {
          this.logger.error('setting aside a queued batch that cannot be read', { file: join(this.dir, name), error: err });
          await rename(join(this.dir, name), join(this.dir, `${name}.corrupt`)).catch(() => undefined);
        }
      }
      if (read.length === 1) return read[0];
      // Its members stay items of their own, acknowledged one by one (the exporter helper: last first).
      if (read.length > 1) return joinGroup(read[0]!.signal, read[0]!.dedupToken, read, undefined);
    }
    if (this.closed) return undefined;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  async ack(item: QueueItem, done: boolean): Promise<void> {
    if (!done || typeof item.ref !== 'string') return;
    // No directory fsync: if the delete is lost in a crash the batch is sent
    // again with its token, which downstream deduplicates.
    await unlink(join(this.dir, item.ref)).catch((err: NodeJS.ErrnoException) => {
      if (err.code !== 'ENOENT') throw err;
    });
  }

  close(): void {
    this.closed = true;
    for (const w of this.waiters.splice(0)) w(undefined);
  }

  async dispose(): Promise<void> {
    await unlink(join(this.dir, 'LOCK')).catch(() => undefined);
  }
}
