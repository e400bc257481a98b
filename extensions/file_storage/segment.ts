/**
 * One segment of a persistent queue (file-queue.ts): a file of appended
 * frames (record.ts), and beside it `<name>.ack`, the byte offsets of the
 * frames acknowledged so far (8 bytes each, appended, never fsynced).
 *
 * The ack file is a hint, not a promise: an offset lost in a crash means
 * that batch is replayed and pushed again under its deduplication token,
 * which downstream drops. So acknowledging costs one small buffered write,
 * coalesced with the others in flight, and no fsync.
 */
import { open, readFile, rename, unlink, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';

const ignoreMissing = (err: NodeJS.ErrnoException) => {
  if (err.code !== 'ENOENT') throw err;
};

export class Segment {
  /** Intact frames in the file (written by us, or found on replay). */
  records = 0;
  /** Offsets of the frames acknowledged. */
  readonly acked = new Set<number>();
  /** Bytes in the file (the next frame's offset) while it is appended to. */
  size = 0;
  /** The append handle; only while this is the active segment. */
  fh: FileHandle | undefined;
  deleted = false;
  private ackFh: FileHandle | undefined;
  private unwritten: number[] = [];
  private ackWrite: Promise<void> | undefined;

  constructor(
    readonly dir: string,
    readonly name: string,
  ) {}

  get path(): string {
    return join(this.dir, this.name);
  }

  get ackPath(): string {
    return join(this.dir, `${this.name}.ack`);
  }

  /** Every frame acknowledged (a segment with none left can go once it is not appended to). */
  get done(): boolean {
    return this.acked.size >= this.records;
  }

  /** Creates the file (it must not exist) and keeps it open for appending. */
  async create(): Promise<void> {
    this.fh = await open(this.path, 'wx');
  }

  async closeAppend(): Promise<void> {
    const fh = this.fh;
    this.fh = undefined;
    await fh?.close();
  }

  /** The offsets in the ack file (a torn last entry is ignored). */
  async readAcks(): Promise<Set<number>> {
    const buf = await readFile(this.ackPath).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return Buffer.alloc(0);
      throw err;
    });
    const out = new Set<number>();
    for (let i = 0; i + 8 <= buf.length; i += 8) out.add(buf.readDoubleLE(i));
    return out;
  }

  /** One frame's bytes. */
  async read(off: number, len: number): Promise<Buffer> {
    const fh = await open(this.path, 'r');
    try {
      const buf = Buffer.allocUnsafe(len);
      const { bytesRead } = await fh.read(buf, 0, len, off);
      return bytesRead === len ? buf : buf.subarray(0, bytesRead);
    } finally {
      await fh.close();
    }
  }

  /** Writes a damaged region beside the segment, for someone to look at. */
  async setAside(off: number, bytes: Buffer): Promise<string> {
    const name = `${this.name}.${off}.corrupt`;
    await writeFile(join(this.dir, name), bytes);
    return name;
  }

  /** The whole file set aside (nothing in it could be read). */
  async setAsideWhole(): Promise<string> {
    this.deleted = true;
    const name = `${this.name}.corrupt`;
    await rename(this.path, join(this.dir, name));
    await unlink(this.ackPath).catch(ignoreMissing);
    return name;
  }

  /** Notes a frame as acknowledged in the ack file (see the header: not fsynced). */
  async writeAck(off: number): Promise<void> {
    this.unwritten.push(off);
    this.ackWrite ??= this.flushAcks();
    await this.ackWrite;
  }

  private async flushAcks(): Promise<void> {
    try {
      while (this.unwritten.length > 0 && !this.deleted) {
        const offs = this.unwritten;
        this.unwritten = [];
        const buf = Buffer.allocUnsafe(offs.length * 8);
        for (let i = 0; i < offs.length; i++) buf.writeDoubleLE(offs[i]!, i * 8);
        this.ackFh ??= await open(this.ackPath, 'a');
        await this.ackFh.write(buf);
      }
    } finally {
      // No await between the loop's last check and here: an ack arriving later starts a new flush.
      this.ackWrite = undefined;
    }
  }

  /**
   * Deletes the segment and its ack file (no directory fsync: a delete lost
   * in a crash replays acknowledged batches, which their tokens cover).
   */
  async remove(): Promise<void> {
    if (this.deleted) return;
    this.deleted = true;
    await this.ackWrite;
    await this.closeAppend();
    const fh = this.ackFh;
    this.ackFh = undefined;
    await fh?.close();
    await unlink(this.path).catch(ignoreMissing);
    await unlink(this.ackPath).catch(ignoreMissing);
  }

  /** Closes the handles (the queue is going away; the files stay). */
  async close(): Promise<void> {
    await this.ackWrite;
    await this.closeAppend();
    const fh = this.ackFh;
    this.ackFh = undefined;
    await fh?.close();
  }
}
