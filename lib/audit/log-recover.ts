/**
 * How an origin's log continues after a restart (or `kill -9`), from the
 * store alone plus any local witness file:
 *
 * 1. The newest checkpoint in the store whose note verifies with one of
 *    the log's keys and whose stored right edge folds to the root it
 *    signed: it saves rereading every leaf. Others are skipped (and logged).
 * 2. The leaves after it (audit_log_leaves, by index), each recomputed
 *    from its record; they must follow on without a gap or a repeat.
 * 3. The newest checkpoint of each local witness file: a larger tree than
 *    the store now holds, or another root at a size it passes, means the
 *    store lost or changed rows. The log then refuses to continue
 *    (appending would fork it) and says to run `trailhouse verify`.
 * 4. The batches of the newest leaves, so a redelivered batch adds nothing.
 */
import fs from 'node:fs';
import type { SqlStore } from '../clickhouse/sql-store.ts';
import { CompactTree } from '../tlog/tree.ts';
import { parseCheckpoint } from '../tlog/checkpoint.ts';
import { openNote, type NoteVerifier } from '../tlog/note.ts';
import { auditLeafLatin1 } from './leaf.ts';
import { checkpointsTable, headerSql, leavesTable, sqlString, type LogTables } from './log-schema.ts';
import { FileWitness, type Witness, type WitnessRecord } from './witness.ts';

export interface Recovered {
  tree: CompactTree;
  checkpointed: number;
  /** Batch token → first index, oldest first. */
  batches: [string, number][];
}

export interface RecoverOptions extends LogTables {
  store: SqlStore;
  origin: string;
  verifiers: readonly NoteVerifier[];
  witnesses: readonly Witness[];
  rememberBatches: number;
  /** Told why a stored checkpoint was not used. */
  onSkipped?: (why: string) => void;
}

/** The log cannot continue without forking: its stored state and its checkpoints disagree. */
export class LogStateError extends Error {}

const PAGE = 100_000;

interface CheckpointRow {
  size: string;
  RootHash: string;
  Note: string;
  Frontier: string[];
}

interface LeafRow {
  idx: string;
  ns: string;
  Category: string;
  Outcome: string;
  ServiceName: string;
  LogBodyHash: string;
}

export async function recoverLog(o: RecoverOptions): Promise<Recovered> {
  const origin = sqlString(o.origin);
  const fail = (why: string) =>
    new LogStateError(`the log ${o.origin} cannot continue: ${why}; run \`trailhouse verify\` to see what changed (or set integrity.origin to start a new log)`);

  // The newest stored checkpoint that one of the log's keys signed and whose right edge folds to
  // its root saves rereading every leaf. One that does not verify is only skipped (verify names
  // it): the log is then rebuilt from its leaves, which it must extend anyway.
  let tree = new CompactTree();
  let checkpointed = -1;
  const stored = await o.store.query<CheckpointRow>(
    `SELECT toString(Size) AS size, RootHash, Note, Frontier FROM ${checkpointsTable(o)} WHERE Origin = ${origin} ORDER BY Size DESC, Time DESC LIMIT 16`,
  );
  for (const cp of stored) {
    const start = trustedStart(cp, o);
    if (typeof start === 'string') {
      o.onSkipped?.(`stored checkpoint at size ${cp.size} skipped: ${start}`);
      continue;
    }
    tree = start;
    checkpointed = start.size;
    break;
  }

  const witnessed = newestWitnessed(o.witnesses, o.origin);
  let witnessRootSeen = witnessed === undefined || witnessed.size < tree.size;
  if (witnessed && witnessed.size === tree.size) {
    if (tree.root().toString('base64') !== witnessed.root) throw fail(`the witness's checkpoint at size ${witnessed.size} has another root than the store's`);
    witnessRootSeen = true;
  }

  for (;;) {
    const page = await o.store.query<LeafRow>(
      `SELECT toString(LogIndex) AS idx, toString(toUnixTimestamp64Nano(Timestamp)) AS ns, ${headerSql(o)}, ServiceName, LogBodyHash
       FROM ${leavesTable(o)} WHERE LogOrigin = ${origin} AND LogIndex >= ${tree.size} ORDER BY LogIndex LIMIT ${PAGE}`,
    );
    for (const l of page) {
      if (l.idx !== String(tree.size)) throw fail(`its leaves do not follow on at index ${tree.size} (found ${l.idx})`);
      if (!/^[0-9a-f]{64}$/.test(l.LogBodyHash)) throw fail(`leaf ${l.idx} has a malformed body hash`);
      tree.appendLatin1(auditLeafLatin1({ origin: o.origin, index: tree.size, timeNs: BigInt(l.ns), category: l.Category, outcome: l.Outcome, service: l.ServiceName, bodyHashHex: l.LogBodyHash }));
      if (witnessed && tree.size === witnessed.size) {
        if (tree.root().toString('base64') !== witnessed.root) throw fail(`the store's leaves give another root at size ${witnessed.size} than the witnessed checkpoint`);
        witnessRootSeen = true;
      }
    }
    if (page.length < PAGE) break;
  }
  if (!witnessRootSeen) throw fail(`a witness holds a checkpoint of ${witnessed!.size} leaves, the store only ${tree.size}`);

  const from = Math.max(0, tree.size - o.rememberBatches);
  const recent = await o.store.query<{ LogBatch: string; first: string }>(
    `SELECT LogBatch, toString(min(LogIndex)) AS first FROM ${leavesTable(o)} WHERE LogOrigin = ${origin} AND LogIndex >= ${from} AND LogBatch != '' GROUP BY LogBatch ORDER BY min(LogIndex)`,
  );
  return { tree, checkpointed, batches: recent.map((r) => [r.LogBatch, Number(r.first)]) };
}

/** The tree at a stored checkpoint, or why it cannot be trusted. */
function trustedStart(cp: CheckpointRow, o: RecoverOptions): CompactTree | string {
  let c;
  try {
    c = parseCheckpoint(openNote(cp.Note, o.verifiers).text);
  } catch (err) {
    return `its note does not verify with the log's keys (${(err as Error).message})`;
  }
  if (c.origin !== o.origin || String(c.size) !== cp.size || c.root.toString('hex') !== cp.RootHash) return 'its columns differ from its signed note';
  let tree: CompactTree;
  try {
    tree = new CompactTree(c.size, cp.Frontier.map((h) => Buffer.from(h, 'hex')));
  } catch (err) {
    return `its right edge is malformed (${(err as Error).message})`;
  }
  return tree.root().equals(c.root) ? tree : 'its right edge does not give its signed root';
}

/** The largest checkpoint of `origin` in the local witness files, read from their ends. */
function newestWitnessed(witnesses: readonly Witness[], origin: string): WitnessRecord | undefined {
  let best: WitnessRecord | undefined;
  for (const w of witnesses) {
    if (!(w instanceof FileWitness)) continue;
    const r = lastRecordOf(w.file, origin);
    if (r && (!best || r.size > best.size)) best = r;
  }
  return best;
}

/** The last well-formed record of `origin` in a witness file: its tail first, the whole file if need be. */
function lastRecordOf(file: string, origin: string): WitnessRecord | undefined {
  let size: number;
  try {
    size = fs.statSync(file).size;
  } catch {
    return undefined;
  }
  const fd = fs.openSync(file, 'r');
  try {
    for (let span = Math.min(size, 1 << 18); ; span = Math.min(size, span * 8)) {
      const buf = Buffer.allocUnsafe(span);
      fs.readSync(fd, buf, 0, span, size - span);
      const lines = buf.toString('utf8').split('\n');
      if (span < size) lines.shift(); // starts mid-line
      for (let i = lines.length - 1; i >= 0; i--) {
        try {
          const r = JSON.parse(lines[i]!) as WitnessRecord;
          if (r.origin === origin && typeof r.size === 'number' && typeof r.root === 'string') return r;
        } catch {
          // a torn or foreign line: keep looking
        }
      }
      if (span === size) return undefined;
    }
  } finally {
    fs.closeSync(fd);
  }
}
