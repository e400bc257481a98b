import { afterEach, describe, expect, it, vi } from 'vitest';
import { encodeLogsProto } from '../otlp/index.ts';
import { sampleLogs } from '../../test/helpers.ts';
import { GROUP_TOKEN_PREFIX, QueueBatcher, queueBatchDefaults, type GroupItem } from './batching.ts';
import type { QueueItem } from './memory-queue.ts';
import { Payload } from '../payload.ts';

const item = (n: number, token = `up-${n}`): QueueItem => ({ signal: 'logs', data: Payload.logs(sampleLogs(n)), count: n, dedupToken: token });

function batcher(cfg: Partial<ReturnType<typeof queueBatchDefaults>> = {}) {
  const ready: GroupItem[] = [];
  const b = new QueueBatcher({ ...queueBatchDefaults(), flush_timeout: 60_000, ...cfg }, (g) => ready.push(g));
  return { b, ready };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('sending_queue.batch grouping', () => {
  it('joins batches until min_size, under one token of its own stored in every member', () => {
    const { b, ready } = batcher({ min_size: 10 });
    const items = [item(4), item(4), item(4), item(1)];
    for (const i of items) b.assign(i);
    // The first three reach 12 >= 10: that group is closed; the fourth opens the next.
    expect(items[0]!.dedupToken.startsWith(GROUP_TOKEN_PREFIX)).toBe(true);
    expect(items[1]!.dedupToken).toBe(items[0]!.dedupToken);
    expect(items[2]!.dedupToken).toBe(items[0]!.dedupToken);
    expect(items[3]!.dedupToken).not.toBe(items[0]!.dedupToken);
    // Handed on only once every member was taken from the queue.
    expect(b.taken(items[0]!)).toBe(true);
    expect(b.taken(items[1]!)).toBe(true);
    expect(ready).toHaveLength(0);
    expect(b.taken(items[2]!)).toBe(true);
    expect(ready).toHaveLength(1);
    const g = ready[0]!;
    expect(g.count).toBe(12);
    expect(g.dedupToken).toBe(items[0]!.dedupToken);
    expect(g.data.count).toBe(12);
    expect(g.members).toEqual(items.slice(0, 3));
    // The open group goes when the queue closes.
    expect(b.taken(items[3]!)).toBe(true);
    b.closeAll();
    expect(ready.map((r) => r.count)).toEqual([12, 1]);
    expect(b.pending).toBe(0);
  });

  it('never takes a group past max_size by adding a batch, and never splits one', () => {
    const { b, ready } = batcher({ min_size: 100, max_size: 10 });
    const items = [item(6), item(6), item(30)];
    for (const i of items) b.assign(i);
    expect(new Set(items.map((i) => i.dedupToken)).size).toBe(3);
    for (const i of items) b.taken(i);
    b.closeAll();
    expect(ready.map((r) => r.count)).toEqual([6, 6, 30]);
  });

  it('closes a group flush_timeout after its first batch', () => {
    vi.useFakeTimers();
    const { b, ready } = batcher({ min_size: 1000, flush_timeout: 1000 });
    const a = item(2);
    const c = item(3);
    b.assign(a);
    vi.advanceTimersByTime(500);
    b.assign(c);
    b.taken(a);
    b.taken(c);
    expect(ready).toHaveLength(0);
    vi.advanceTimersByTime(500);
    expect(ready.map((r) => r.count)).toEqual([5]);
    // A later batch starts a new group.
    const d = item(1);
    b.assign(d);
    expect(d.dedupToken).not.toBe(a.dedupToken);
  });

  it('joins batches of different senders (each request has its own client info), carrying no client on', () => {
    const { b, ready } = batcher({ min_size: 1000 });
    const items = [item(1), item(2)];
    (items[0]!.data.client = { address: '10.0.0.1', metadata: new Map() });
    (items[1]!.data.client = { address: '10.0.0.2', metadata: new Map() });
    for (const i of items) b.assign(i);
    expect(items[1]!.dedupToken).toBe(items[0]!.dedupToken);
    for (const i of items) b.taken(i);
    b.closeAll();
    expect(ready.map((r) => r.count)).toEqual([3]);
    expect(ready[0]!.data.client).toBeUndefined();
  });

  it('keeps batches apart by the metadata keys the exporter reads, and the joined batch carries those keys only', () => {
    const ready: GroupItem[] = [];
    const b = new QueueBatcher({ ...queueBatchDefaults(), flush_timeout: 60_000, min_size: 1000 }, (g) => ready.push(g), ['Tenant']);
    const alice = (addr: string) => ({ address: addr, metadata: new Map([['tenant', ['a']], ['user-agent', [addr]]]) });
    const items = [item(1), item(2), item(3), item(4)];
    (items[0]!.data.client = alice('10.0.0.1'));
    (items[1]!.data.client = { address: '', metadata: new Map([['tenant', ['b']]]) });
    (items[2]!.data.client = alice('10.0.0.2'));
    for (const i of items) b.assign(i);
    // Alice's two requests join (interleaved with Bob's); Bob's and the one without a tenant stand apart.
    expect(items[2]!.dedupToken).toBe(items[0]!.dedupToken);
    expect(new Set(items.map((i) => i.dedupToken)).size).toBe(3);
    for (const i of items) b.taken(i);
    b.closeAll();
    expect(ready.map((r) => r.count)).toEqual([4, 2, 4]);
    expect(ready[0]!.data.client).toEqual({ address: '', metadata: new Map([['tenant', ['a']]]) });
    expect(ready[1]!.data.client?.metadata.get('tenant')).toEqual(['b']);
    expect(ready[2]!.data.client?.metadata.get('tenant')).toBeUndefined();
  });

  it('partition.metadata_keys keeps the values of its keys apart as the exporter\'s own keys do', () => {
    const { b, ready } = batcher({ min_size: 1000, partition: { metadata_keys: ['X-Tenant'] } });
    const items = [item(1), item(2), item(3)];
    (items[0]!.data.client = { address: '', metadata: new Map([['x-tenant', ['a']]]) });
    (items[1]!.data.client = { address: '', metadata: new Map([['x-tenant', ['b']]]) });
    (items[2]!.data.client = { address: '', metadata: new Map([['x-tenant', ['a']]]) });
    for (const i of items) b.assign(i);
    expect(items.map((i) => i.dedupToken === items[0]!.dedupToken)).toEqual([true, false, true]);
    for (const i of items) b.taken(i);
    b.closeAll();
    expect(ready.map((r) => r.count)).toEqual([4, 2]);
  });

  it('a batch the queue refused is not waited for', () => {
    const { b, ready } = batcher({ min_size: 5 });
    const a = item(2);
    const refused = item(3);
    const ga = b.assign(a);
    const gr = b.assign(refused);
    expect(gr).toBe(ga);
    b.taken(a);
    expect(ready).toHaveLength(0);
    b.refused(gr);
    expect(ready.map((r) => r.count)).toEqual([2]);
  });

  it('leaves batches of no group of its own (replayed ones) to the caller', () => {
    const { b } = batcher();
    expect(b.taken(item(2, `${GROUP_TOKEN_PREFIX}from-disk`))).toBe(false);
    expect(b.taken(item(2, 'kafka:t:0:1-2:0'))).toBe(false);
  });

  it('keeps a group of payloads not decoded yet undecoded', () => {
    const { b, ready } = batcher({ min_size: 5 });
    const lazy = (n: number): QueueItem => {
      const data = Payload.scan('logs', encodeLogsProto(sampleLogs(n)));
      return { signal: 'logs', data, count: n, dedupToken: 'x' };
    };
    const items = [lazy(2), lazy(3)];
    for (const i of items) b.assign(i);
    for (const i of items) b.taken(i);
    const joined = ready[0]!.data as Payload<'logs'>;
    expect(joined.bytes()).toHaveLength(2);
    expect(joined.count).toBe(5);
    expect(joined.content.kind).toBe('bytes');
    expect(joined.records().resourceLogs.flatMap((rl) => rl.scopeLogs.flatMap((sl) => sl.logRecords)).map((r) => r.body)).toEqual(['request 0', 'request 1', 'request 0', 'request 1', 'request 2']);
  });
});
