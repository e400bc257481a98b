/**
 * An append-only Merkle log over the rows of a table (RFC 9162 hashing, C2SP
 * signed checkpoints): every row written through it is a leaf, its origin
 * and index stored with it. What a row is and how its leaf is computed is
 * the table's `LeafSource`: the audit trail (log.ts) and the clickhouse
 * exporter's otel_logs rows of chosen services (otel-logs-source.ts) are
 * two sources over this one log.
 *
 * One log per origin; appends to a log run one at a time, in order:
 * a batch is given the next indexes, inserted (its dedup token names the
 * range), and only once the store has it does the tree grow. So the
 * store always holds a contiguous prefix of each log, plus at most the
 * one batch in flight.
 *
 * - A batch whose insert fails for a reason that may pass stays pending
 *   with its range: the next append (or the upstream's redelivery of the
 *   same batch, which its failure causes) retries it first, with the same
 *   token, so the store keeps it once. The range is never reused while
 *   the batch may still land, so no index is written twice or skipped.
 *   A batch the store refuses for good gives its range back.
 * - A redelivered batch (same upstream dedup token) that the log already
 *   holds adds no leaf: the log remembers the recent batches, and after a
 *   restart reads them back from the leaves table.
 * - After a restart or `kill -9` the log continues from the store: the
 *   newest checkpoint's right edge (checked against its signature), then
 *   the leaves after it, which must continue it without a gap. A local
 *   witness that has seen a larger tree than the store holds stops the
 *   log: continuing would fork it (see `trailhouse verify`).
 *
 * Checkpoints are signed when a log gets its first rows, every interval
 * while the tree grows, and at close; each witness gets one before the
 * store does.
 */
import { PermanentError } from '../../core/errors.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import type { Counter, MetricsRegistry } from '../../core/telemetry/metrics.ts';
import type { SqlStore } from '../clickhouse/sql-store.ts';
import { CompactTree } from '../tlog/tree.ts';
import { checkpointText } from '../tlog/checkpoint.ts';
import { signNote, type NoteSigner, type NoteVerifier } from '../tlog/note.ts';
import { checkpointsTable, sqlString, type LogTables } from './log-schema.ts';
import { recoverLog, type Recovered } from './log-recover.ts';
import type { Witness, WitnessRecord } from './witness.ts';

/**
 * A table's rows as leaves: a batch (its rows, in order) is given an
 * origin and a first index, sets its log columns and says its leaves; the
 * log then writes it and, once the store holds it, grows the tree.
 */
export interface LeafSource<B> {
  /** Rows of the batch that become leaves. */
  size(batch: B): number;
  /**
   * Sets the log columns of the batch's leaf rows (origin, indexes from
   * `first`, `token` on the first) and returns their leaf hashes as latin1
   * strings (CompactTree.appendLatin1), in order.
   */
  place(batch: B, origin: string, first: number, token: string): Promise<string[]>;
  /** Writes the batch (log columns set), deduplicated by `dedupToken`; PermanentError when the store refuses it for good. */
  insert(batch: B, dedupToken: string): Promise<void>;
  /** CREATE statements of the log's own tables (leaves, their view, checkpoints), in order. */
  tablesSql(): string[];
}

export interface MerkleLogOptions<B> extends LogTables {
  source: LeafSource<B>;
  store: SqlStore;
  /** The log's name (C2SP origin) for payloads that come from no ordered stream. */
  origin: string;
  /**
   * Where the logs of ordered streams (Kafka partitions) are named:
   * `<sequenceBase>/<sequence>`. The same on every ingester of a group (no
   * host in it), so whichever reads a partition continues its log.
   */
  sequenceBase: string;
  signer: NoteSigner;
  /** Keys whose checkpoints this log trusts when it continues after a restart (its own, current and retired). */
  verifiers: readonly NoteVerifier[];
  witnesses: readonly Witness[];
  /** Sign a checkpoint this often while the tree grows (ms); 0 = only at close. */
  checkpointMs: number;
  logger: Logger;
  metrics?: MetricsRegistry;
  /** Batches remembered per origin for redelivery (and read back after a restart). Default 100 000. */
  rememberBatches?: number;
}

interface Pending<B> {
  batch: string;
  first: number;
  rows: B;
  /** Leaf hashes as latin1 strings (CompactTree.appendLatin1). */
  leaves: string[];
}

/** One origin's log: its tree, the batches it holds, and the append in flight. */
class OriginLog<B> {
  tree = new CompactTree();
  /** Upstream dedup token → first index, oldest first (trimmed from the front). */
  readonly batches = new Map<string, number>();
  pending: Pending<B> | undefined;
  /** Size of the newest checkpoint written (-1: none yet), and when (ms). */
  checkpointed = -1;
  checkpointedAt = Date.now();
  /** Why the log cannot continue (its recovery failed), if so. */
  refused: Error | undefined;
  chain: Promise<unknown> = Promise.resolve();
  checkpointing: Promise<void> | undefined;
  ready: Promise<void>;

  constructor(
    readonly origin: string,
    recover: () => Promise<Recovered>,
  ) {
    this.ready = recover().then((r) => {
      this.tree = r.tree;
      this.checkpointed = r.checkpointed;
      for (const [b, first] of r.batches) this.batches.set(b, first);
    });
    this.ready.catch((err: Error) => (this.refused = err));
  }
}

export class MerkleLog<B> {
  private readonly logs = new Map<string, OriginLog<B>>();
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly leavesAdded: Counter | undefined;
  private readonly redelivered: Counter | undefined;
  private readonly checkpoints: Counter | undefined;
  private readonly witnessFailures: Counter | undefined;
  private readonly remember: number;

  constructor(private readonly o: MerkleLogOptions<B>) {
    const m = o.metrics;
    this.leavesAdded = m?.counter('trailhouse_audit_log_leaves', 'Rows added to the audit log (leaves of its Merkle tree).');
    this.redelivered = m?.counter('trailhouse_audit_log_redelivered_batches', 'Batches the audit log already held when they came again (no leaf added).');
    this.checkpoints = m?.counter('trailhouse_audit_log_checkpoints', 'Signed checkpoints written to every witness and the store.');
    this.witnessFailures = m?.counter('trailhouse_audit_log_checkpoint_failures', 'Checkpoints not written (a witness or the store refused); retried at the next interval.');
    this.remember = o.rememberBatches ?? 100_000;
    if (m) this.exposeHeads(m);
  }

  /** Per origin, what an operator alerts on: a log that stopped (refused or stuck on a batch) or whose newest rows go unsigned. */
  private exposeHeads(m: MetricsRegistry): void {
    m.onCollect(() => {
      const now = Date.now();
      for (const l of this.logs.values()) {
        const labels = { origin: l.origin };
        m.gauge('trailhouse_audit_log_size', 'Leaves in the audit log (its tree size).', labels).set(l.tree.size);
        m.gauge('trailhouse_audit_log_unsigned_leaves', 'Leaves newer than the newest checkpoint (not yet signed or witnessed).', labels).set(Math.max(0, l.tree.size - Math.max(0, l.checkpointed)));
        m.gauge('trailhouse_audit_log_checkpoint_age_seconds', 'Seconds since the newest checkpoint was written (or the log was opened).', labels).set(Math.round((now - l.checkpointedAt) / 1000));
        m.gauge('trailhouse_audit_log_blocked', '1 while the log cannot take rows: it refused to continue (see the logs) or waits for a batch the store has not taken.', labels).set(l.refused || l.pending ? 1 : 0);
      }
    });
  }

  /** Creates the log's tables; appends wait for their origin's recovery, not for this. */
  async start(): Promise<void> {
    for (const sql of this.o.source.tablesSql()) await this.o.store.exec(sql);
    if (this.o.checkpointMs > 0) {
      this.timer = setInterval(() => void this.checkpointAll().catch(() => undefined), this.o.checkpointMs);
      this.timer.unref();
    }
  }

  /** The origin of a payload's sequence (a Kafka group/topic/partition), or the log's own. */
  originOf(sequence?: string): string {
    return sequence ? `${this.o.sequenceBase}/${sequence.replace(/[^A-Za-z0-9._:/-]/g, '_')}` : this.o.origin;
  }

  /**
   * Adds `rows` as the next leaves of their origin's log and writes them
   * (their log columns set). `batch` names the rows' delivery: the same
   * token again adds nothing. Settles when the store holds them.
   */
  append(rows: B, batch: string, sequence?: string): Promise<void> {
    if (this.closed) return Promise.reject(new Error('the audit log is closed'));
    if (this.o.source.size(rows) === 0) return Promise.resolve();
    const log = this.originLog(this.originOf(sequence));
    const run = log.chain.then(() => this.appendTo(log, rows, batch));
    log.chain = run.catch(() => undefined);
    return run;
  }

  private originLog(origin: string): OriginLog<B> {
    let log = this.logs.get(origin);
    if (!log) {
      const onSkipped = (why: string) => this.o.logger.warn('audit log: continuing from its leaves', { origin, why });
      log = new OriginLog<B>(origin, () => recoverLog({ ...this.o, origin, rememberBatches: this.remember, onSkipped }));
      this.logs.set(origin, log);
    }
    return log;
  }

  private async appendTo(log: OriginLog<B>, rows: B, batch: string): Promise<void> {
    await log.ready;
    if (log.pending) {
      const mine = log.pending.batch === batch;
      try {
        await this.insertPending(log);
      } catch (err) {
        // An earlier batch refused for good is that batch's failure (its range is free again),
        // not this one's; one that may still land holds the log, and this batch waits for it.
        if (mine || !(err instanceof PermanentError)) throw mine ? err : new Error('the audit log is waiting for an earlier batch to be stored', { cause: err });
        this.o.logger.error('audit rows refused by the store for good; their batch is dropped from the log', { origin: log.origin, error: err });
      }
    }
    if (log.batches.has(batch)) {
      this.redelivered?.add(1);
      return;
    }
    const first = log.tree.size;
    const leaves = await this.o.source.place(rows, log.origin, first, batch);
    log.pending = { batch, first, rows, leaves };
    await this.insertPending(log);
    // A log's first rows are signed at once, not an interval later: a log without a checkpoint
    // is one `trailhouse verify` cannot vouch for, and its rows could be truncated unnoticed.
    if (log.checkpointed < 0 && this.o.checkpointMs > 0) void this.checkpoint(log).catch(() => undefined);
  }

  /** Writes the pending batch; on success the tree grows by its leaves. */
  private async insertPending(log: OriginLog<B>): Promise<void> {
    const p = log.pending!;
    try {
      await this.o.source.insert(p.rows, `${p.batch}:log:${log.origin}:${p.first}`);
    } catch (err) {
      // Refused for good: it never landed, so its range is free again.
      if (err instanceof PermanentError) log.pending = undefined;
      throw err;
    }
    for (const leaf of p.leaves) log.tree.appendLatin1(leaf);
    log.pending = undefined;
    log.batches.set(p.batch, p.first);
    if (log.batches.size > this.remember) log.batches.delete(log.batches.keys().next().value!);
    this.leavesAdded?.add(p.leaves.length);
  }

  /** Signs and writes a checkpoint for every log that grew since its last one. */
  async checkpointAll(): Promise<void> {
    const errors: unknown[] = [];
    for (const log of this.logs.values()) {
      try {
        await log.ready;
        if (log.tree.size > 0 && log.tree.size > log.checkpointed) await this.checkpoint(log);
      } catch (err) {
        errors.push(err);
      }
    }
    if (errors.length) throw errors[0];
  }

  /** One checkpoint at a time per log; a call while one is being written waits for it, then writes its own if the tree grew since. */
  private async checkpoint(log: OriginLog<B>): Promise<void> {
    while (log.checkpointing) await log.checkpointing.catch(() => undefined);
    if (log.tree.size <= log.checkpointed) return;
    log.checkpointing = this.writeCheckpoint(log).finally(() => (log.checkpointing = undefined));
    return log.checkpointing;
  }

  private async writeCheckpoint(log: OriginLog<B>): Promise<void> {
    // A snapshot: the tree only grows once the store holds the leaves, so this covers stored rows only.
    const size = log.tree.size;
    const root = log.tree.root();
    const frontier = log.tree.frontier();
    const time = new Date();
    const signer = this.o.signer;
    const note = signNote(checkpointText({ origin: log.origin, size, root, time }), [signer]);
    const keyId = signer.keyId.toString(16).padStart(8, '0');
    const rec: WitnessRecord = { origin: log.origin, size, root: root.toString('base64'), time: time.toISOString(), key: `${signer.name}+${keyId}`, note };
    try {
      // Witnesses first: the store never holds a checkpoint that they do not.
      for (const w of this.o.witnesses) await w.append(rec);
      const values = [
        sqlString(log.origin),
        String(size),
        sqlString(root.toString('hex')),
        `fromUnixTimestamp64Milli(${time.getTime()})`,
        sqlString(signer.name),
        sqlString(keyId),
        sqlString(note),
        `[${frontier.map((h) => sqlString(h.toString('hex'))).join(',')}]`,
      ];
      const token = sqlString(`checkpoint:${log.origin}:${size}:${root.toString('hex')}`);
      await this.o.store.exec(`INSERT INTO ${checkpointsTable(this.o)} SETTINGS insert_deduplication_token = ${token} VALUES (${values.join(', ')})`);
    } catch (err) {
      this.witnessFailures?.add(1);
      this.o.logger.warn('audit log checkpoint not written; retrying at the next interval', { origin: log.origin, size, error: err });
      throw err;
    }
    if (size > log.checkpointed) log.checkpointed = size;
    log.checkpointedAt = Date.now();
    this.checkpoints?.add(1);
  }

  /** Size and root of each origin's tree (for tests and the health of the log). */
  heads(): { origin: string; size: number; root: string }[] {
    return [...this.logs.values()].map((l) => ({ origin: l.origin, size: l.tree.size, root: l.tree.root().toString('hex') }));
  }

  /** Lets the appends in flight finish, then writes the final checkpoints. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    await Promise.allSettled([...this.logs.values()].map((l) => l.chain));
    try {
      await this.checkpointAll();
    } finally {
      for (const w of this.o.witnesses) await w.close();
    }
  }
}
