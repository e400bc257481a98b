/**
 * What filelog keeps in its storage extension: each known file's identity
 * (fingerprint) and committed offset, and the batch being handed on, if
 * any (`pending`). The pending batch is written (fsynced) before it is
 * offered to the next stage; once accepted, its offsets are committed with
 * the next write. After a crash a pending batch is read again byte for
 * byte, the same ranges under the same deduplication token, so the next
 * stage gets either nothing new or the very same batch again, never a
 * batch cut differently.
 */
import type { KvStore } from '../../core/kv-storage.ts';

export interface SavedFile {
  /** Fingerprint, base64. */
  fp: string;
  offset: number;
  path: string;
}

export interface PendingRange {
  fp: string;
  path: string;
  start: number;
  /** Exclusive; always a record's end, so reading [start, end) again cuts the same records. */
  end: number;
}

export interface Checkpoint {
  v: 1;
  files: SavedFile[];
  pending: { token: string; ranges: PendingRange[] } | null;
}

export async function loadCheckpoint(kv: KvStore): Promise<Checkpoint | undefined> {
  const raw = await kv.get();
  if (!raw || raw.length === 0) return undefined;
  let v: unknown;
  try {
    v = JSON.parse(raw.toString('utf8'));
  } catch (err) {
    throw new Error(`filelog offsets are unreadable (${(err as Error).message}); move the file aside to start over`, { cause: err });
  }
  const c = v as Checkpoint;
  if (c?.v !== 1 || !Array.isArray(c.files)) throw new Error('filelog offsets have an unknown format; move the file aside to start over');
  return c;
}

export function saveCheckpoint(kv: KvStore, c: Checkpoint): Promise<void> {
  return kv.set(Buffer.from(JSON.stringify(c)));
}
