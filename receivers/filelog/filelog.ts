/**
 * The filelog receiver: tails the files its globs find, one log record per
 * line (or per multiline record), each poll's new records over all files as
 * one payload to the next stage. Offsets advance only once the next stage
 * accepted the payload; a refusal leaves them where they were and the same
 * bytes are read again a poll later (backpressure: nothing more is read
 * meanwhile). With `storage`, offsets and the batch in flight are kept in
 * the storage extension (checkpoint.ts), so a restart or kill -9 neither
 * loses nor re-cuts a line.
 */
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { Component, CreateSettings, Host, NextConsumers } from '../../core/component.ts';
import { once } from '../../core/component.ts';
import { emptyScope, type LogRecord } from '../../core/model.ts';
import { Payload } from '../../core/payload.ts';
import { observedConsumer, type ObsConsumer } from '../../core/receiver-helper.ts';
import { isKvStorage, type KvStore } from '../../core/kv-storage.ts';
import { ONCE_TOKEN_PREFIX } from '../../core/queue/once.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { FilelogConfig } from './config.ts';
import { compileGlob, findFiles, type CompiledGlob } from './glob.ts';
import { bytesParser, compileOperators, lineRecord, type BytesParser, type Operator } from './operators.ts';
import { lineSplitter, multilineSplitter, type Splitter } from './split.ts';
import { Tracker, type Tracked } from './tracker.ts';
import { LinesEncoder } from './encode.ts';
import { loadCheckpoint, saveCheckpoint, type Checkpoint, type PendingRange } from './checkpoint.ts';

/** What one poll (or a replay) builds: records for the operators to work on, or, on the bytes path (encode.ts), the request bytes directly. */
type Batch = LogRecord[] | LinesEncoder;

interface Range {
  t: Tracked;
  start: number;
  end: number;
}

/** The request and its record count (finish() empties the encoder). */
function encoded(e: LinesEncoder): [Uint8Array[], number] {
  const count = e.count;
  return [[e.finish()], count];
}

/** How long shutdown waits for a batch being handed on. */
const SHUTDOWN_GRACE_MS = 5_000;

/** Longest wait between attempts while the next stage refuses. */
const MAX_BACKOFF_MS = 5_000;

export class FilelogReceiver implements Component {
  private readonly include: CompiledGlob[];
  private readonly exclude: CompiledGlob[];
  private readonly splitter: Splitter;
  private readonly operators: Operator[];
  /** No operators, or one JSON parser (bytesParser), and UTF-8: lines are encoded straight from the read buffers (encode.ts). */
  private readonly direct: boolean;
  /** The JSON parser the bytes path runs itself, if any. */
  private readonly jsonBytes: BytesParser | undefined;
  /** The bytes path's encoder, reused poll after poll (its buffers with it). */
  private readonly encoder = new LinesEncoder();
  private readonly tracker: Tracker;
  private readonly log: Logger;
  private readonly obs: ObsConsumer;
  private kv: KvStore | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private firstPoll = true;
  /** When the globs were last matched and the files identified (Tracker.poll), and whether the next poll must do it. */
  private scannedAt = 0;
  private mustScan = true;
  private restored = false;
  private backoff = 0;
  /** Offsets changed since they were last written. */
  private dirty = false;
  private rr = 0;
  /**
   * One poll's reads, each file's into the next free part of it (a poll reads
   * at most max_batch_bytes), reused poll after poll: what is handed on is
   * copied out of it (strings, or the encoded request) before the next poll.
   */
  private pollBuf: Buffer | undefined;
  /** The batch in flight at the last stop, to hand on again before anything new. */
  private toReplay: Checkpoint['pending'] = null;

  constructor(
    private readonly settings: CreateSettings<FilelogConfig>,
    next: NextConsumers,
  ) {
    const c = settings.config;
    this.log = settings.logger;
    this.include = c.include.map(compileGlob);
    this.exclude = c.exclude.map(compileGlob);
    const m = c.multiline;
    this.splitter = m
      ? multilineSplitter(c.max_log_size, new RegExp((m.line_start_pattern ?? m.line_end_pattern)!), m.line_start_pattern ? 'start' : 'end')
      : lineSplitter(c.max_log_size);
    this.operators = compileOperators(c.operators);
    this.jsonBytes = bytesParser(c.operators);
    this.direct = (this.operators.length === 0 || this.jsonBytes !== undefined) && c.encoding !== 'ascii';
    this.tracker = new Tracker(c.fingerprint_size, c.max_concurrent_files, this.log);
    this.obs = observedConsumer(settings, next, 'file');
  }

  async start(host: Host): Promise<void> {
    const c = this.settings.config;
    if (c.storage) {
      const ext = host.getExtension(c.storage);
      if (!isKvStorage(ext)) throw new Error(`storage: extension "${c.storage}" is not a started storage extension (file_storage)`);
      this.kv = await ext.openKv(this.settings.id);
      const saved = await loadCheckpoint(this.kv);
      if (saved) {
        this.restored = true;
        for (const f of saved.files) this.tracker.restore(Buffer.from(f.fp, 'base64'), f.offset, f.path);
        this.toReplay = saved.pending;
      }
    }
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.poll().then(
        (more) => this.schedule(more ? 0 : this.backoff || this.settings.config.poll_interval),
        (err: unknown) => {
          this.log.error('filelog poll failed', { error: err });
          this.schedule(this.settings.config.poll_interval);
        },
      );
    }, ms);
  }

  /** One poll: reads what is new, hands it on; true when there is more to read at once. */
  private async poll(): Promise<boolean> {
    const c = this.settings.config;
    if (this.toReplay) {
      if (!(await this.replay(this.toReplay.token, this.toReplay.ranges))) {
        this.backoff = Math.min(MAX_BACKOFF_MS, Math.max(c.poll_interval, this.backoff * 2));
        return false;
      }
      this.toReplay = null;
      this.backoff = 0;
    }
    const now = Date.now();
    // In a backlog polls follow at once: the globs are matched and every file identified at most
    // once per poll_interval; in between, only the files read are checked, through their handles.
    const scan = this.mustScan || now - this.scannedAt >= c.poll_interval;
    let files: Tracked[];
    if (scan) {
      const paths = await findFiles(this.include, this.exclude);
      const atStart = this.firstPoll && !this.restored && c.start_at === 'end';
      this.firstPoll = false;
      files = await this.tracker.poll(paths, atStart ? (size) => size : () => 0);
      this.scannedAt = now;
    } else files = this.tracker.openFiles();
    this.mustScan = true;
    const observed = BigInt(now) * 1_000_000n;
    const records: Batch = this.direct ? this.freshEncoder(observed) : [];
    const ranges: Range[] = [];
    let budget = c.max_batch_bytes;
    let more = false;
    let changed = false;
    const n = files.length;
    this.rr = n ? (this.rr + 1) % n : 0;
    for (let k = 0; k < n && !this.stopped; k++) {
      const t = files[(this.rr + k) % n]!;
      let size: number;
      if (!scan) {
        if (budget <= 0) {
          more = true;
          continue;
        }
        size = await this.tracker.checkOpen(t);
        if (size < 0) {
          changed = true; // truncated or rewritten since: the next poll scans
          continue;
        }
      } else if (t.sizeGen === this.tracker.gen) size = t.size; // what the scan just saw
      else size = (await t.fh!.stat()).size; // read through its handle only (moved out of the globs)
      if (size !== t.lastSize) {
        t.lastSize = size;
        t.sizeSince = now;
      }
      if (size <= t.offset) {
        await this.tracker.doneWith(t);
        continue;
      }
      if (budget <= 0) {
        more = true;
        continue;
      }
      const want = Math.min(size - t.offset, Math.max(c.max_log_size, 256 * 1024), budget);
      this.pollBuf ??= Buffer.allocUnsafeSlow(c.max_batch_bytes);
      const at = c.max_batch_bytes - budget;
      const buf = this.pollBuf.subarray(at, at + want);
      const { bytesRead } = await t.fh!.read(buf, 0, want, t.offset);
      const atEof = t.offset + bytesRead >= size;
      const flush = atEof && now - t.sizeSince >= c.force_flush_period;
      const used = this.cut(t, buf, bytesRead, flush, observed, records);
      budget -= bytesRead;
      if (used > 0) ranges.push({ t, start: t.offset, end: t.offset + used });
      if (!atEof && used > 0) more = true;
    }
    if (ranges.length === 0) {
      if (this.dirty) await this.save(null);
      return false;
    }
    const token = this.tokenOf(ranges);
    await this.save({ token, ranges: ranges.map((r) => this.pendingOf(r)) });
    if (await this.deliver(records, token)) {
      for (const r of ranges) r.t.offset = r.end;
      this.dirty = true;
      this.backoff = 0;
      // The next poll, at once, may skip the scan (unless a file was found changed).
      if (more && !changed) this.mustScan = false;
      return more;
    }
    this.backoff = Math.min(MAX_BACKOFF_MS, Math.max(c.poll_interval, this.backoff * 2));
    return false;
  }

  /** Records of one chunk of a file into `out`; returns the bytes they span. */
  private cut(t: Tracked, buf: Buffer, len: number, flush: boolean, observed: bigint, out: Batch): number {
    const c = this.settings.config;
    const name = c.include_file_name ? basename(t.path) : undefined;
    const path = c.include_file_path ? t.path : undefined;
    const ops = this.operators;
    if (out instanceof LinesEncoder) {
      out.file(name, path);
      out.chunk(buf, len);
      const jp = this.jsonBytes;
      if (!jp) return this.splitter.split(buf, len, flush, (s, e) => out.add(buf, s, e));
      // What the scanner does not reproduce exactly goes the records path, its record's bytes spliced in.
      const records = (line: string) => lineRecord(line, observed, name, path, ops);
      return this.splitter.split(buf, len, flush, (s, e) => out.addParsedLine(buf, s, e, jp, records));
    }
    const enc = c.encoding === 'ascii' ? 'latin1' : 'utf8';
    return this.splitter.split(buf, len, flush, (s, e) => {
      const r = lineRecord(buf.toString(enc, s, e), observed, name, path, ops);
      if (r) out.push(r);
    });
  }

  private freshEncoder(observed: bigint): LinesEncoder {
    this.encoder.reset(observed);
    return this.encoder;
  }

  private tokenOf(ranges: readonly Range[]): string {
    const h = createHash('sha256');
    for (const r of ranges) h.update(r.t.fp).update(`:${r.start}:${r.end};`);
    return `${ONCE_TOKEN_PREFIX}${this.settings.id}:${h.digest('base64url').slice(0, 32)}`;
  }

  private pendingOf(r: Range): PendingRange {
    return { fp: r.t.fp.toString('base64'), path: r.t.path, start: r.start, end: r.end };
  }

  /** Hands records on; false when the next stage refused (nothing was taken). */
  private async deliver(batch: Batch, token: string): Promise<boolean> {
    // Every record dropped by an operator: the bytes are done with.
    if (batch instanceof LinesEncoder ? batch.count === 0 : batch.length === 0) return true;
    const p =
      batch instanceof LinesEncoder
        ? Payload.ofBytes('logs', ...encoded(batch))
        : Payload.logs({ resourceLogs: [{ resource: { attributes: [], droppedAttributesCount: 0 }, scopeLogs: [{ scope: emptyScope(), logRecords: batch, schemaUrl: '' }], schemaUrl: '' }] });
    p.dedupToken = token;
    try {
      await this.obs.logs(p);
      return true;
    } catch (err) {
      if (this.backoff === 0) this.log.warn('the next stage refused tailed lines; reading them again later', { records: p.count, error: err });
      return false;
    }
  }

  /** Writes the offsets (and the batch about to be handed on), when there is a storage extension. */
  private async save(pending: Checkpoint['pending']): Promise<void> {
    this.dirty = false;
    if (!this.kv) return;
    const files = this.tracker.files.map((t) => ({ fp: t.fp.toString('base64'), offset: t.offset, path: t.path }));
    await saveCheckpoint(this.kv, { v: 1, files, pending });
  }

  /**
   * After a crash: the batch that was being handed on, read again exactly
   * and offered under its token; false when the next stage refused it.
   */
  private async replay(token: string, pending: PendingRange[]): Promise<boolean> {
    const observed = BigInt(Date.now()) * 1_000_000n;
    const records: Batch = this.direct ? this.freshEncoder(observed) : [];
    const done: Array<{ t: Tracked; end: number }> = [];
    const files = await this.tracker.poll(await findFiles(this.include, this.exclude), () => 0);
    for (const r of pending) {
      const fp = Buffer.from(r.fp, 'base64');
      const t = files.find((f) => f.fp.length >= fp.length && f.fp.subarray(0, fp.length).equals(fp) && f.offset === r.start);
      if (!t) {
        this.log.warn('a file of the batch in flight at the last stop is gone; its lines cannot be read again', { path: r.path, from: r.start, to: r.end });
        continue;
      }
      const buf = Buffer.allocUnsafe(r.end - r.start);
      const { bytesRead } = await t.fh!.read(buf, 0, buf.length, r.start);
      this.cut(t, buf, bytesRead, true, observed, records);
      done.push({ t, end: r.start + bytesRead });
    }
    if (!(await this.deliver(records, token))) return false;
    for (const d of done) d.t.offset = d.end;
    await this.save(null);
    return true;
  }

  readonly shutdown = once(async () => {
    this.stopped = true;
    clearTimeout(this.timer);
    // A batch the next stage holds on to (an exporter without a queue, retrying)
    // is not waited for past a grace: its range stays saved as in flight, and is
    // offered again, under its token, at the next start.
    let timer: NodeJS.Timeout | undefined;
    const finished = await Promise.race([
      (this.running ?? Promise.resolve()).then(() => true, () => true),
      new Promise<boolean>((r) => (timer = setTimeout(() => r(false), SHUTDOWN_GRACE_MS))),
    ]);
    clearTimeout(timer);
    if (!finished) {
      this.log.warn('stopping while the next stage still holds a batch; it is offered again at the next start');
      return;
    }
    if (this.dirty) await this.save(null).catch((err: unknown) => this.log.error('cannot save filelog offsets', { error: err }));
    await this.tracker.closeAll();
  });
}
