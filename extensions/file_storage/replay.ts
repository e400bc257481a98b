/**
 * What a persistent queue finds in its directory on start (file-queue.ts):
 * the segments in order, and in them the frames not acknowledged yet.
 *
 * - The last segment was being appended to at a crash: damaged bytes at its
 *   end are a torn tail, frames whose writing never completed. Their offers
 *   never resolved (each resolves after the fsync that covers its frame), so
 *   nothing acknowledged is lost by cutting them off; they are never
 *   replayed as garbage.
 * - Damaged bytes anywhere else (a damaged disk) are written beside the
 *   segment as `<segment>.<offset>.corrupt`, reported once per start, and
 *   skipped; a segment with nothing intact in it is renamed `.corrupt`.
 * - `<seq>.batch` files (one frame each, the layout before segments) are
 *   replayed first, as one-frame segments, so an upgrade loses nothing.
 */
import { readdir, readFile, truncate, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { Signal } from '../../core/model.ts';
import type { Logger } from '../../core/telemetry/logger.ts';
import { scanSegment } from './record.ts';
import { ONCE_TOKEN_PREFIX } from '../../core/queue/once.ts';
import { Segment } from './segment.ts';

export const SEGMENT_RE = /^(\d{16})\.seg$/;
const LEGACY_RE = /^(\d{16})\.batch$/;
const USED_RE = /^(\d{16})\.seg/;
export const segmentName = (n: number) => `${String(n).padStart(16, '0')}.seg`;

/** A frame to replay. */
export interface Found {
  seg: Segment;
  off: number;
  len: number;
  signal: Signal;
  token: string;
}

export interface Replay {
  /** Segments still holding frames not acknowledged. */
  segments: Segment[];
  /** Their frames not acknowledged, oldest first. */
  found: Found[];
  /** The number for the next segment created. */
  nextSegment: number;
  /** Tokens of idempotent offers (core/queue/once.ts) found in any frame, acknowledged or not. */
  onceTokens: Set<string>;
}

export async function replay(dir: string, logger: Logger): Promise<Replay> {
  const legacy: string[] = [];
  const segs: string[] = [];
  const acks = new Set<string>();
  let nextSegment = 1;
  for (const name of await readdir(dir)) {
    // Numbers set aside (`.corrupt`) are not reused either: a new segment never meets an old name.
    const used = USED_RE.exec(name);
    if (used) nextSegment = Math.max(nextSegment, Number(used[1]) + 1);
    if (SEGMENT_RE.test(name)) segs.push(name);
    else if (LEGACY_RE.test(name)) legacy.push(name);
    else if (name.endsWith('.ack')) acks.add(name);
    // An offer of the one-file-per-batch layout that never completed.
    else if (name.startsWith('.tmp-')) await unlink(join(dir, name)).catch(() => undefined);
  }
  legacy.sort();
  segs.sort();
  const names = [...legacy, ...segs];
  const out: Replay = { segments: [], found: [], nextSegment, onceTokens: new Set() };
  for (let i = 0; i < names.length; i++) {
    const seg = new Segment(dir, names[i]!);
    acks.delete(`${seg.name}.ack`);
    const appended = i === names.length - 1 && SEGMENT_RE.test(seg.name);
    await load(seg, appended, logger, out);
  }
  // Ack files whose segment is gone (deleted just before a crash).
  for (const a of acks) await unlink(join(dir, a)).catch(() => undefined);
  return out;
}

async function load(seg: Segment, appended: boolean, logger: Logger, out: Replay): Promise<void> {
  const buf = await readFile(seg.path);
  const { records, bad } = scanSegment(buf);
  if (records.length === 0 && bad.length > 0 && !appended) {
    const name = await seg.setAsideWhole();
    logger.error('setting aside a queue file that cannot be read', { file: join(seg.dir, name), bytes: buf.length });
    return;
  }
  for (const b of bad) {
    if (appended && b.off + b.len === buf.length) {
      await truncate(seg.path, b.off);
      logger.warn('cut a torn tail off the queue segment being written at a crash (never acknowledged)', { file: seg.path, bytes: b.len });
    } else {
      const name = await seg.setAside(b.off, buf.subarray(b.off, b.off + b.len));
      logger.error('setting aside queued data that cannot be read', { file: join(seg.dir, name), bytes: b.len });
    }
  }
  const acked = await seg.readAcks();
  seg.records = records.length;
  for (const r of records) {
    if (r.token.startsWith(ONCE_TOKEN_PREFIX)) out.onceTokens.add(r.token);
    if (acked.has(r.off)) seg.acked.add(r.off);
    else out.found.push({ seg, off: r.off, len: r.len, signal: r.signal, token: r.token });
  }
  if (seg.done) await seg.remove();
  else out.segments.push(seg);
}
