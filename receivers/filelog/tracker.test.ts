/**
 * Tracker.checkOpen, what a poll between scans relies on: a file read
 * through its handle is checked for truncation and in-place rewrites, and
 * an unchanged file costs one fstat.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { appendFileSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '../../core/telemetry/logger.ts';
import { Tracker } from './tracker.ts';

let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

async function tracked(content: string) {
  dir = mkdtempSync(join(tmpdir(), 'tracker-'));
  const path = join(dir, 'a.log');
  writeFileSync(path, content);
  const tracker = new Tracker(1000, 10, silentLogger);
  const [t] = await tracker.poll([path], () => 0);
  t!.offset = content.length;
  return { tracker, t: t!, path };
}

describe('Tracker.checkOpen', () => {
  it('an appended file: its new size; an unchanged one: the same', async () => {
    const { tracker, t, path } = await tracked('one\ntwo\n');
    expect(await tracker.checkOpen(t)).toBe(8);
    appendFileSync(path, 'three\n');
    expect(await tracker.checkOpen(t)).toBe(14);
    await tracker.closeAll();
  });

  it('truncated below the offset, or rewritten in place with other content: -1', async () => {
    const { tracker, t, path } = await tracked('one\ntwo\n');
    truncateSync(path, 0);
    writeFileSync(path, 'x\n');
    expect(await tracker.checkOpen(t)).toBe(-1);
    writeFileSync(path, 'other content, longer than before\n');
    expect(await tracker.checkOpen(t)).toBe(-1);
    await tracker.closeAll();
  });
});
