/**
 * The filelog receiver on real files in a temp dir: start_at, rotation by
 * move/create and by copytruncate, truncation, restart from saved offsets
 * (a real file_storage extension), backpressure, multiline, and the
 * config refusals. Every test checks that each line arrives exactly once.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { appendFileSync, copyFileSync, mkdirSync, mkdtempSync, renameSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Factory } from '../../core/component.ts';
import { RefusedError } from '../../core/errors.ts';
import { getAttr } from '../../core/model.ts';
import { errorsOf, settingsFor } from '../../test/component-config.ts';
import { RecordingConsumer, sleep, testHost, waitFor } from '../../test/helpers.ts';
import type { FileStorageExtension} from '../../extensions/file_storage/index.ts';
import { fileStorageFactory, type FileStorageConfig } from '../../extensions/file_storage/index.ts';
import { filelogFactory, type FilelogConfig } from './index.ts';
import type { FilelogReceiver } from './filelog.ts';

let dir: string;
let running: FilelogReceiver[] = [];
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'filelog-'));
});
afterEach(async () => {
  for (const r of running) await r.shutdown();
  running = [];
  rmSync(dir, { recursive: true, force: true });
});

async function storage(): Promise<FileStorageExtension> {
  const ext = fileStorageFactory.create(settingsFor<FileStorageConfig>(fileStorageFactory as Factory, { directory: join(dir, 'storage') })) as FileStorageExtension;
  await ext.start();
  return ext;
}

async function tail(user: Record<string, unknown>, sink = new RecordingConsumer(), ext?: FileStorageExtension) {
  const r = filelogFactory.create(settingsFor<FilelogConfig>(filelogFactory as Factory, { poll_interval: '20ms', force_flush_period: '100ms', ...user }), { logs: sink }) as FilelogReceiver;
  await r.start(testHost(ext ? { file_storage: ext } : {}));
  running.push(r);
  return { r, sink };
}

const bodies = (s: RecordingConsumer) => s.logRecords.map((r) => r.body as string);
const lines = (prefix: string, from: number, to: number) => Array.from({ length: to - from }, (_, i) => `${prefix}-${from + i}`);
const write = (file: string, ls: string[]) => appendFileSync(file, ls.map((l) => l + '\n').join(''));

/** Waits until `want` lines arrived, then a little longer to see that nothing more (a repeat) comes. */
async function expectExactly(sink: RecordingConsumer, want: string[]) {
  await waitFor(() => bodies(sink).length >= want.length, 10_000, `${want.length} lines`);
  await sleep(150);
  expect([...bodies(sink)].sort()).toEqual([...want].sort());
}

describe('filelog', () => {
  it('start_at beginning reads what is there and what is appended, with log.file.name', async () => {
    const f = join(dir, 'app.log');
    write(f, lines('a', 0, 3));
    const { sink } = await tail({ include: [join(dir, '*.log')], start_at: 'beginning', include_file_path: true });
    write(f, lines('a', 3, 5));
    await expectExactly(sink, lines('a', 0, 5));
    const r = sink.logRecords[0]!;
    expect(getAttr(r.attributes, 'log.file.name')).toBe('app.log');
    expect(getAttr(r.attributes, 'log.file.path')).toBe(f);
    expect(r.observedTimeUnixNano).toBeGreaterThan(0n);
  });

  it('start_at end (default) skips what was there at start; files created later are read from their start', async () => {
    const f = join(dir, 'app.log');
    write(f, lines('old', 0, 3));
    const { sink } = await tail({ include: [join(dir, '*.log')] });
    await sleep(60);
    write(f, lines('new', 0, 2));
    write(join(dir, 'later.log'), lines('later', 0, 2));
    await expectExactly(sink, [...lines('new', 0, 2), ...lines('later', 0, 2)]);
  });

  it('rotation by move/create: the moved file is the same file (fingerprint), the new one is read from its start', async () => {
    const f = join(dir, 'app.log');
    write(f, lines('r', 0, 50));
    const { sink } = await tail({ include: [join(dir, 'app.log*')], start_at: 'beginning' });
    await waitFor(() => bodies(sink).length === 50);
    write(f, lines('r', 50, 60)); // written just before the move: read from app.log.1
    renameSync(f, `${f}.1`);
    write(f, lines('r', 60, 70));
    await expectExactly(sink, lines('r', 0, 70));
  });

  it('rotation by move/create out of the globs: the old file is read to its end through the open handle', async () => {
    const f = join(dir, 'app.log');
    write(f, lines('m', 0, 5));
    const { sink } = await tail({ include: [f], start_at: 'beginning' });
    await waitFor(() => bodies(sink).length === 5);
    write(f, lines('m', 5, 8));
    renameSync(f, join(dir, 'app.old'));
    write(f, lines('m', 8, 10));
    await expectExactly(sink, lines('m', 0, 10));
  });

  it('rotation by copytruncate: the copy carries on from our offset, the truncated file is new', async () => {
    const f = join(dir, 'app.log');
    write(f, lines('c', 0, 20));
    const { sink } = await tail({ include: [join(dir, 'app.log*')], start_at: 'beginning' });
    await waitFor(() => bodies(sink).length === 20);
    write(f, lines('c', 20, 25)); // not read yet when the copy is taken
    copyFileSync(f, `${f}.1`);
    truncateSync(f, 0);
    write(f, lines('c', 25, 30));
    await expectExactly(sink, lines('c', 0, 30));
  });

  it('a file truncated in place and written again is read from its new start', async () => {
    const f = join(dir, 'app.log');
    write(f, lines('t', 0, 4));
    const { sink } = await tail({ include: [f], start_at: 'beginning' });
    await waitFor(() => bodies(sink).length === 4);
    truncateSync(f, 0);
    write(f, lines('u', 0, 3));
    await expectExactly(sink, [...lines('t', 0, 4), ...lines('u', 0, 3)]);
  });

  it('a file rewritten in place to the same size (same inode) is a new file: its fingerprint is read again once it changed', async () => {
    const f = join(dir, 'app.log');
    write(f, lines('s', 0, 4));
    const { sink } = await tail({ include: [f], start_at: 'beginning' });
    await waitFor(() => bodies(sink).length === 4);
    await sleep(100); // a few polls that find it unchanged
    writeFileSync(f, lines('r', 0, 4).map((l) => l + '\n').join('')); // same length, other content
    await expectExactly(sink, [...lines('s', 0, 4), ...lines('r', 0, 4)]);
  });

  it('a backlog read in many polls (most without a scan) through copytruncate and move/create rotation: every line once', async () => {
    const files = [0, 1, 2, 3].map((i) => join(dir, `b${i}.log`));
    files.forEach((f, i) => write(f, lines(`b${i}`, 0, 1500)));
    const { sink } = await tail({ include: [join(dir, 'b*.log*')], start_at: 'beginning', max_batch_bytes: '2KiB', max_log_size: '2KiB' });
    await waitFor(() => bodies(sink).length > 1000);
    copyFileSync(files[0]!, `${files[0]}.1`);
    truncateSync(files[0]!, 0);
    write(files[0]!, lines('b0', 1500, 1520));
    renameSync(files[1]!, `${files[1]}.1`);
    write(files[1]!, lines('b1', 1500, 1520));
    write(files[2]!, lines('b2', 1500, 1520));
    await expectExactly(sink, [0, 1, 2, 3].flatMap((i) => [...lines(`b${i}`, 0, 1500), ...(i < 3 ? lines(`b${i}`, 1500, 1520) : [])]));
  });

  it('restart mid-file with storage: neither loses nor repeats a line (start_at end does not apply to known files)', async () => {
    const f = join(dir, 'app.log');
    write(f, lines('s', 0, 10));
    const ext = await storage();
    const first = await tail({ include: [f], start_at: 'beginning', storage: 'file_storage' }, new RecordingConsumer(), ext);
    await waitFor(() => bodies(first.sink).length === 10);
    await first.r.shutdown();
    write(f, lines('s', 10, 15)); // written while stopped
    const second = await tail({ include: [f], storage: 'file_storage' }, new RecordingConsumer(), ext);
    write(f, lines('s', 15, 18));
    await expectExactly(second.sink, lines('s', 10, 18));
    expect(bodies(first.sink)).toEqual(lines('s', 0, 10));
  });

  it('backpressure: while the next stage refuses, nothing is lost or skipped; then every line once', async () => {
    const f = join(dir, 'app.log');
    const sink = new RecordingConsumer();
    sink.failWith = new RefusedError('full', 'queue_full');
    await tail({ include: [f], start_at: 'beginning' }, sink);
    write(f, lines('b', 0, 30));
    await sleep(200);
    expect(sink.logPayloads).toHaveLength(0);
    write(f, lines('b', 30, 40));
    sink.failWith = undefined;
    await expectExactly(sink, lines('b', 0, 40));
  });

  it('multiline line_start_pattern joins continuation lines; the last record is flushed after force_flush_period', async () => {
    const f = join(dir, 'app.log');
    writeFileSync(f, 'ERROR boom\n  at a()\n  at b()\nINFO ok\nWARN tail\n  more\n');
    const { sink } = await tail({ include: [f], start_at: 'beginning', multiline: { line_start_pattern: '^[A-Z]+ ' } });
    await expectExactly(sink, ['ERROR boom\n  at a()\n  at b()', 'INFO ok', 'WARN tail\n  more']);
  });

  it('a line longer than max_log_size is cut; a CR before the newline is dropped', async () => {
    const f = join(dir, 'app.log');
    writeFileSync(f, 'x'.repeat(150) + '\nwin\r\n');
    const { sink } = await tail({ include: [f], start_at: 'beginning', max_log_size: 100 });
    await expectExactly(sink, ['x'.repeat(100), 'x'.repeat(50), 'win']);
  });

  it('invalid UTF-8 becomes U+FFFD (as over the records path); multi-byte text is kept', async () => {
    const f = join(dir, 'app.log');
    writeFileSync(f, Buffer.concat([Buffer.from('bad \xff byte\n', 'latin1'), Buffer.from('größe ✓\n')]));
    for (const operators of [[], [{ type: 'regex_parser', regex: '^(?<w>\\S+)' }]]) {
      const { sink, r } = await tail({ include: [f], start_at: 'beginning', operators });
      await expectExactly(sink, ['bad \uFFFD byte', 'größe ✓']);
      await r.shutdown();
    }
  });

  it('more files than max_concurrent_files: every file gets its turn', async () => {
    const want: string[] = [];
    for (let f = 0; f < 7; f++) {
      const ls = lines(`f${f}`, 0, 3);
      write(join(dir, `f${f}.log`), ls);
      want.push(...ls);
    }
    const { sink } = await tail({ include: [join(dir, '*.log')], start_at: 'beginning', max_concurrent_files: 2 });
    await expectExactly(sink, want);
  });

  it('exclude globs, and ** across directories', async () => {
    mkdirSync(join(dir, 'a', 'b'), { recursive: true });
    write(join(dir, 'a', 'b', 'deep.log'), ['deep']);
    write(join(dir, 'a', 'skip.log'), ['skip']);
    write(join(dir, 'top.log'), ['top']);
    const { sink } = await tail({ include: [join(dir, '**', '*.log')], exclude: [join(dir, 'a', 'skip.*')], start_at: 'beginning' });
    await expectExactly(sink, ['deep', 'top']);
  });

  it('refuses operators it does not run, by name, and bad config with the reason', () => {
    const errs = (u: unknown) => errorsOf(() => settingsFor(filelogFactory as Factory, u));
    expect(errs({ include: ['/x'], operators: [{ type: 'move', from: 'a', to: 'b' }] })[0]).toMatch(/operators\[0\]\.type: operator "move" is not offered: filelog runs only the parsers json_parser, regex_parser, envoy_json_parser, istio_text_parser/);
    expect(errs({})).toContain('include: required: at least one glob of files to tail');
    expect(errs({ include: ['/x'], multiline: { line_start_pattern: 'a', line_end_pattern: 'b' } })).toContain('multiline: set exactly one of line_start_pattern and line_end_pattern');
    expect(errs({ include: ['/x'], operators: [{ type: 'regex_parser', regex: '(' }] })[0]).toMatch(/regex/);
    expect(errs({ include: ['/x'], delete_after_read: true })[0]).toMatch(/delete_after_read/);
  });
});

