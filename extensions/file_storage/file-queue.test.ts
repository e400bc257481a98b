import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { RefusedError } from '../../core/errors.ts';
import type { LogsData } from '../../core/model.ts';
import type { QueueItem } from '../../core/queue/memory-queue.ts';
import { sampleLogs, sampleTraces, testLogger } from '../../test/helpers.ts';
import { encodeLogsProto } from '../../core/otlp/index.ts';
import { FileQueue } from './file-queue.ts';
import { killAfterAcked } from './testdata/kill-after-acked.ts';
import { decodeRecord, encodeRecord, encodeRecordParts, scanSegment } from './record.ts';
import { buildRawMessages, PartitionKeys } from '../../lib/kafka/messages.ts';
import { hashPartitioner } from '../../exporters/kafka/partitions.ts';
import { TRACE_ID_FIELD } from '../../core/otlp/slice.ts';
import { Payload, type AnyPayload } from '../../core/payload.ts';

const tmp = () => mkdtempSync(join(tmpdir(), 'th-fq-'));
const logsItem = (i: number): QueueItem => ({ signal: 'logs', data: Payload.logs(sampleLogs(2)), count: 2, dedupToken: `tok-${i}` });
const bodies = (p: AnyPayload | LogsData) => ('records' in p ? (p.records() as LogsData) : p).resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords.map((r) => r.body)));

describe('file_storage queue', () => {
  it('persists batches with signal and token, replays them in order on the next start', async () => {
    const dir = tmp();
    const q = await FileQueue.open(dir, 10, testLogger());
    await q.offer(logsItem(1));
    await q.offer({ signal: 'traces', data: Payload.traces(sampleTraces(3)), count: 3, dedupToken: 'tok-2' });
    await q.offer(logsItem(3));
    // One segment, three frames.
    const segs = readdirSync(dir).filter((f) => f.endsWith('.seg'));
    expect(segs).toHaveLength(1);
    expect(scanSegment(readFileSync(join(dir, segs[0]!))).records).toHaveLength(3);
    // A crash: nothing acked, the process just goes away.
    const q2 = await FileQueue.open(dir, 10, testLogger());
    expect(q2.size).toBe(3);
    const a = (await q2.take())!;
    const b = (await q2.take())!;
    const c = (await q2.take())!;
    expect([a.dedupToken, b.dedupToken, c.dedupToken]).toEqual(['tok-1', 'tok-2', 'tok-3']);
    expect(b.signal).toBe('traces');
    expect(b.count).toBe(3);
    expect(b.data.records()).toEqual(sampleTraces(3));
    expect(a.data.records()).toEqual(sampleLogs(2));
    await q2.ack(a, true);
    await q2.ack(b, false); // kept for the next start
    await q2.ack(c, true);
    const q3 = await FileQueue.open(dir, 10, testLogger());
    expect(q3.size).toBe(1);
    expect((await q3.take())!.dedupToken).toBe('tok-2');
  });

  it('writes kept request bytes as the payload, in pieces, and reads them back as one request', () => {
    for (const pieces of [1, 3, 300]) {
      const data = sampleLogs(pieces);
      // One OTLP request per record, as batch concatenates them: the concatenation is one valid request.
      const one = (i: number): LogsData => ({ resourceLogs: [{ ...data.resourceLogs[0]!, scopeLogs: [{ ...data.resourceLogs[0]!.scopeLogs[0]!, logRecords: [data.resourceLogs[0]!.scopeLogs[0]!.logRecords[i]!] }] }] });
      const raw = Array.from({ length: pieces }, (_, i) => encodeLogsProto(one(i)));
      const item: QueueItem = { signal: 'logs', data: Payload.ofRecords('logs', data, undefined, raw), count: pieces, dedupToken: `t-${pieces}` };
      const parts = encodeRecordParts(item);
      expect(parts.length).toBe(pieces > 256 ? 3 : pieces + 2);
      const back = decodeRecord(encodeRecord(item));
      expect(back.dedupToken).toBe(`t-${pieces}`);
      expect(bodies(back.data)).toEqual(bodies(data));
      const damaged = encodeRecord(item);
      damaged[damaged.length - 6]! ^= 1;
      expect(() => decodeRecord(damaged)).toThrow(/checksum/);
    }
  });

  it('keepRaw: a batch taken now and the same batch replayed after a crash carry the same bytes, so Kafka messages built from them match', async () => {
    const dir = tmp();
    const data = sampleLogs(40);
    const one = (from: number, to: number): LogsData => ({ resourceLogs: [{ ...data.resourceLogs[0]!, scopeLogs: [{ ...data.resourceLogs[0]!.scopeLogs[0]!, logRecords: data.resourceLogs[0]!.scopeLogs[0]!.logRecords.slice(from, to) }] }] });
    const raw = [encodeLogsProto(one(0, 15)), encodeLogsProto(one(15, 40))];
    const q = await FileQueue.open(dir, 10, testLogger(), true, true);
    await q.offer({ signal: 'logs', data: Payload.ofRecords('logs', data, undefined, raw), count: 40, dedupToken: 't' });
    // Without received bytes the queue keeps its own encoding for the consumer.
    await q.offer({ signal: 'logs', data: Payload.logs(sampleLogs(3)), count: 3, dedupToken: 'u' });
    const live = (await q.take())!;
    const liveOwn = (await q.take())!;
    const replay = await FileQueue.open(dir, 10, testLogger(), true, true);
    const again = (await replay.take())!;
    const againOwn = (await replay.take())!;
    const build = (d: AnyPayload) => buildRawMessages(d.bytes()!, TRACE_ID_FIELD.logs, true, 1200, new PartitionKeys(3, hashPartitioner(3)));
    const [a, b] = [build(live.data), build(again.data)];
    expect(a.messages.length).toBeGreaterThan(3);
    expect(b.messages.map((m) => [m.key, m.partition, m.value.toString('hex')])).toEqual(a.messages.map((m) => [m.key, m.partition, m.value.toString('hex')]));
    expect(build(againOwn.data).messages.map((m) => m.value.toString('hex'))).toEqual(build(liveOwn.data).messages.map((m) => m.value.toString('hex')));
    // Without keepRaw the bytes are dropped once on disk.
    const plain = await FileQueue.open(tmp(), 10, testLogger());
    const d2 = sampleLogs(2);
    await plain.offer({ signal: 'logs', data: Payload.ofRecords('logs', d2, undefined, [encodeLogsProto(d2)]), count: 2, dedupToken: 'v' });
    expect((await plain.take())!.data.bytes()).toBeUndefined();
  });

  it('keepRaw: a batch taken in this process is what was written, not decoded (as a replay), with its client info; the records offered are not kept', async () => {
    const q = await FileQueue.open(tmp(), 10, testLogger(), true, true);
    const info = { address: '10.0.0.7', metadata: new Map([['x-tenant', ['a']]]) };
    const data = Payload.logs(sampleLogs(3), info);
    await q.offer({ signal: 'logs', data, count: 3, dedupToken: 't' });
    const taken = (await q.take())!;
    expect(taken.data.content.kind).toBe('bytes');
    expect(taken.data.count).toBe(3);
    expect(taken.data === data).toBe(false);
    expect(taken.data.client).toBe(info);
    expect(bodies(taken.data)).toEqual(bodies(data));
  });

  it('refuses with queue_full at capacity, hands batches to waiting takers, drains then ends after close', async () => {
    const q = await FileQueue.open(tmp(), 2, testLogger());
    const waiting = q.take();
    await q.offer(logsItem(1));
    expect((await waiting)!.dedupToken).toBe('tok-1');
    await q.offer(logsItem(2));
    await q.offer(logsItem(3));
    const err = await q.offer(logsItem(4)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RefusedError);
    expect((err as RefusedError).reason).toBe('queue_full');
    q.close();
    await expect(q.offer(logsItem(5))).rejects.toMatchObject({ reason: 'shutting_down' });
    expect((await q.take())!.dedupToken).toBe('tok-2');
    expect((await q.take())!.dedupToken).toBe('tok-3');
    expect(await q.take()).toBeUndefined();
  });

  it('sets aside a damaged frame, says so once, and goes on with the frames after it', async () => {
    const dir = tmp();
    const q = await FileQueue.open(dir, 10, testLogger());
    for (let i = 1; i <= 3; i++) await q.offer(logsItem(i));
    const seg = readdirSync(dir).find((f) => f.endsWith('.seg'))!;
    const buf = readFileSync(join(dir, seg));
    const [, second] = scanSegment(buf).records;
    buf[second!.off + second!.len - 10]! ^= 0xff; // inside the second frame's payload
    writeFileSync(join(dir, seg), buf);
    const lines: string[] = [];
    const q2 = await FileQueue.open(dir, 10, testLogger(lines));
    expect(q2.size).toBe(2);
    expect((await q2.take())!.dedupToken).toBe('tok-1');
    expect((await q2.take())!.dedupToken).toBe('tok-3');
    expect(lines.filter((l) => l.includes('cannot be read'))).toHaveLength(1);
    expect(readFileSync(join(dir, `${seg}.${second!.off}.corrupt`))).toEqual(buf.subarray(second!.off, second!.off + second!.len));
  });

  it('sets aside a file of the one-file-per-batch layout that cannot be read, and replays the intact ones first', async () => {
    const dir = tmp();
    writeFileSync(join(dir, '0000000000000001.batch'), encodeRecord(logsItem(1)));
    writeFileSync(join(dir, '0000000000000002.batch'), Buffer.from('THQ1 truncated'));
    const q = await FileQueue.open(dir, 10, testLogger());
    await q.offer(logsItem(3));
    const a = (await q.take())!;
    expect(a.dedupToken).toBe('tok-1');
    expect((await q.take())!.dedupToken).toBe('tok-3');
    expect(readdirSync(dir)).toContain('0000000000000002.batch.corrupt');
    await q.ack(a, true);
    expect(readdirSync(dir)).not.toContain('0000000000000001.batch');
  });

  it('keeps a second process off the same directory', async () => {
    const dir = tmp();
    // pid 1 is always alive: another process holding the lock.
    writeFileSync(join(dir, 'LOCK'), '1\n');
    await expect(FileQueue.open(dir, 10, testLogger())).rejects.toThrow(/in use by process 1/);
    // A lock left by a dead process (kill -9) is taken over.
    writeFileSync(join(dir, 'LOCK'), '999999999\n');
    await expect(FileQueue.open(dir, 10, testLogger())).resolves.toBeInstanceOf(FileQueue);
  });

  it('every batch acknowledged before kill -9 is there after restart', async () => {
    const dir = tmp();
    const acked = await killAfterAcked(dir, 200);
    const q = await FileQueue.open(dir, 1_000_000, testLogger());
    const replayed = new Set<string>();
    const n = q.size;
    for (let i = 0; i < n; i++) {
      const item = await q.take();
      if (item) replayed.add(String(bodies(item.data)[0]));
    }
    for (const b of acked) expect(replayed.has(b)).toBe(true);
    expect(replayed.size).toBeGreaterThanOrEqual(acked.length);
  });
});
