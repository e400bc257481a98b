/**
 * One assigned partition: its window of chunks in flight and its commits.
 *
 * Up to `maxInflight` chunks per partition are in the pipeline at once (the
 * correlation processor holds each for its window, so one at a time would
 * cap a partition at one chunk per window). The committed offset is the
 * first chunk not yet done; the metadata lists the window (chunks.ts), and a
 * new chunk is handed to the pipeline only after a commit that lists it.
 * Commits are serialised per partition, newest state wins.
 *
 * A refused chunk is retried from memory with the same token after a growing
 * backoff, and the partition pauses fetching meanwhile; it also pauses while
 * the window is full. On a rebalance the worker is revoked: chunks still in
 * flight finish, but it commits nothing more (the new owner re-forms them
 * from the committed plan, same tokens, and ClickHouse drops the repeats).
 */
import { PermanentError } from '../../core/errors.ts';
import { chunkToken, formChunk, hasPayload, planMetadata, RecentIds, type Item, type Range } from './chunks.ts';

export interface Chunk extends Range {
  items: Item[];
  /** Every offset of the range has been fetched (recovered chunks fill up over fetches). */
  complete: boolean;
  inflight: boolean;
  failing: boolean;
  token: string;
}

export interface WorkerDeps {
  topic: string;
  partition: number;
  maxRecords: number;
  maxInflight: number;
  backoff: { initial_interval: number; max_interval: number; multiplier: number; randomization_factor: number };
  commit(offset: bigint, metadata: string): Promise<void>;
  /** Hands a chunk's payload to the pipeline; resolves when it was accepted. */
  dispatch(chunk: Chunk): Promise<void>;
  setPaused(paused: boolean): void;
  onRefused(chunk: Chunk, err: unknown): void;
  onPermanent(chunk: Chunk, err: unknown): void;
  onAccepted(chunk: Chunk): void;
  onCommitFailed(err: unknown): void;
  onDuplicate(item: Item): void;
  /** Messages per partition remembered to recognise a second copy (0 = off). */
  dedupWindow: number;
}

interface Waiter {
  version: number;
  resolve(): void;
  reject(err: unknown): void;
}

export class PartitionWorker {
  private window: Chunk[] = [];
  /** First offset past every chunk formed (null until the first fetch). */
  private next: bigint | null = null;
  private revoked = false;
  private stopping = false;
  private failing = 0;
  private backoff = 0;
  private paused = false;
  private readonly timers = new Set<NodeJS.Timeout>();
  private version = 0;
  private committedVersion = 0;
  private committing = false;
  private waiters: Waiter[] = [];
  private last = { offset: -1n, metadata: '' };
  private retryCommitTimer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];
  /** Highest offset whose decode failure was counted (refetches count once). */
  countedBad = -1n;
  private readonly recent: RecentIds;
  /** Offsets below this are read only to learn their message ids (after a restart). */
  warmUntil = -1n;
  /** Where to seek first to read those, or null. */
  warmFrom: bigint | null = null;

  constructor(
    private readonly d: WorkerDeps,
    recovered: Range[],
  ) {
    this.recent = new RecentIds(d.dedupWindow);
    for (const r of recovered) this.window.push({ ...r, items: [], complete: r.done, inflight: false, failing: false, token: '' });
    if (recovered.length > 0) this.next = recovered[recovered.length - 1]!.end + 1n;
    this.popDone();
  }

  /** Takes fetched items; returns the highest offset now held or done (to resolve), or null. */
  async feed(items: Item[]): Promise<bigint | null> {
    if (this.revoked || this.stopping) return null;
    let resolved: bigint | null = null;
    const fresh: Item[] = [];
    for (const it of items) {
      if (this.recent.note(it)) this.d.onDuplicate(it);
      if (it.offset < this.warmUntil) {
        resolved = it.offset;
        continue;
      }
      const c = this.window.find((w) => it.offset >= w.start && it.offset <= w.end);
      if (c) {
        if (!c.done && !c.complete) {
          if (c.items.length === 0 || c.items[c.items.length - 1]!.offset < it.offset) c.items.push(it);
          if (it.offset >= c.end) c.complete = true;
        }
        resolved = it.offset;
      } else if (this.next !== null && it.offset < this.next) {
        resolved = it.offset; // below the window: done before
      } else {
        // Offsets may skip (control records): a later offset completes earlier chunks.
        for (const w of this.window) if (!w.complete && w.end < it.offset) w.complete = true;
        fresh.push(it);
      }
    }
    for (const w of this.window) if (w.complete && !w.done && !w.inflight && !w.failing) this.send(w);

    const created: Chunk[] = [];
    const nextBefore = this.next;
    let i = 0;
    while (i < fresh.length && this.window.length < this.d.maxInflight) {
      const to = formChunk(fresh, i, this.d.maxRecords);
      const part = fresh.slice(i, to);
      const c: Chunk = {
        start: part[0]!.offset,
        end: part[part.length - 1]!.offset,
        done: false,
        items: part,
        complete: true,
        inflight: false,
        failing: false,
        token: '',
      };
      this.window.push(c);
      created.push(c);
      this.next = c.end + 1n;
      i = to;
    }
    if (created.length > 0) {
      try {
        // The plan must be on the broker before the pipeline can see the chunks.
        await this.commitNow();
      } catch (err) {
        this.window = this.window.filter((w) => !created.includes(w));
        this.next = nextBefore;
        throw err;
      }
      if (this.revoked || this.stopping) return resolved;
      for (const c of created) this.send(c);
      resolved = created[created.length - 1]!.end;
    }
    this.updatePause();
    return resolved;
  }

  private send(c: Chunk): void {
    c.inflight = true;
    c.token ||= chunkToken(this.d.topic, this.d.partition, c, c.items[0]?.timestamp ?? '0');
    if (!hasPayload(c.items)) {
      this.finish(c);
      return;
    }
    this.d.dispatch(c).then(
      () => {
        this.d.onAccepted(c);
        this.finish(c);
      },
      (err: unknown) => this.refused(c, err),
    );
  }

  private finish(c: Chunk): void {
    c.inflight = false;
    c.done = true;
    c.items = [];
    if (c.failing) {
      c.failing = false;
      this.failing--;
    }
    if (this.failing === 0) this.backoff = 0;
    this.popDone();
    this.updatePause();
    if (!this.revoked) this.scheduleCommit();
    this.checkIdle();
  }

  private refused(c: Chunk, err: unknown): void {
    c.inflight = false;
    if (err instanceof PermanentError) {
      this.d.onPermanent(c, err);
      this.finish(c);
      return;
    }
    if (!c.failing) {
      c.failing = true;
      this.failing++;
    }
    this.d.onRefused(c, err);
    this.updatePause();
    this.checkIdle();
    if (this.revoked || this.stopping) return;
    const b = this.d.backoff;
    this.backoff = this.backoff ? Math.min(this.backoff * b.multiplier, b.max_interval) : b.initial_interval;
    // Randomized as the Collector's backoff is (interval × (1 ± factor)), so
    // partitions refused together do not all retry at the same moment.
    const wait = this.backoff * (1 + b.randomization_factor * (2 * Math.random() - 1));
    const t = setTimeout(() => {
      this.timers.delete(t);
      if (!this.revoked && !this.stopping) this.send(c);
    }, wait);
    this.timers.add(t);
  }

  private popDone(): void {
    while (this.window.length > 0 && this.window[0]!.done) this.window.shift();
  }

  private updatePause(): void {
    const want = !this.revoked && (this.failing > 0 || this.window.length >= this.d.maxInflight);
    if (want !== this.paused) {
      this.paused = want;
      this.d.setPaused(want);
    }
  }

  // ---------------------------------------------------------------- commits

  private state(): { offset: bigint; metadata: string } | null {
    if (this.window.length > 0) return { offset: this.window[0]!.start, metadata: planMetadata(this.window) };
    return this.next === null ? null : { offset: this.next, metadata: '' };
  }

  /** Resolves once a commit reflecting the current window succeeded. */
  private commitNow(): Promise<void> {
    const version = ++this.version;
    const p = new Promise<void>((resolve, reject) => this.waiters.push({ version, resolve, reject }));
    if (!this.committing) {
      this.committing = true;
      void this.commitLoop();
    }
    return p;
  }

  private scheduleCommit(): void {
    this.commitNow().catch((err: unknown) => {
      this.d.onCommitFailed(err);
      if (this.revoked || this.retryCommitTimer) return;
      this.retryCommitTimer = setTimeout(() => {
        this.retryCommitTimer = undefined;
        if (!this.revoked) this.scheduleCommit();
      }, 1_000);
    });
  }

  private async commitLoop(): Promise<void> {
    while (this.committedVersion < this.version) {
      const v = this.version;
      const st = this.state();
      let error: unknown;
      try {
        if (!this.revoked && st && (st.offset !== this.last.offset || st.metadata !== this.last.metadata)) {
          await this.d.commit(st.offset, st.metadata);
          this.last = st;
        }
      } catch (err) {
        error = err ?? new Error('commit failed');
      }
      this.committedVersion = v;
      const due = this.waiters.filter((w) => w.version <= v);
      this.waiters = this.waiters.filter((w) => w.version > v);
      for (const w of due) {
        if (error === undefined) w.resolve();
        else w.reject(error);
      }
    }
    this.committing = false;
    this.checkIdle();
  }

  // ---------------------------------------------------------------- lifecycle

  /** A rebalance took the partition (or may have): stop committing and retrying. */
  revoke(): void {
    this.revoked = true;
    this.clearTimers();
  }

  /** Shutdown: no new chunks or retries; resolves when in-flight chunks settled and their commit is done. */
  drain(): Promise<void> {
    this.stopping = true;
    this.clearTimers();
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.checkIdle();
    });
  }

  private clearTimers(): void {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    if (this.retryCommitTimer) clearTimeout(this.retryCommitTimer);
    this.retryCommitTimer = undefined;
  }

  private checkIdle(): void {
    if (this.idleWaiters.length === 0) return;
    if (this.window.some((c) => c.inflight) || this.committing) return;
    for (const w of this.idleWaiters.splice(0)) w();
  }
}
