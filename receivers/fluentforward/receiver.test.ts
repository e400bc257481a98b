/**
 * The fluentforward receiver on the wire, with hand-made msgpack for what
 * the client libraries cannot be made to send (every mode, EventTime, bad
 * input); real senders are in senders.test.ts.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { gzipSync } from 'node:zlib';
import { createHash } from 'node:crypto';
import { RefusedError } from '../../core/errors.ts';
import { getAttr, KvList } from '../../core/model.ts';
import { RecordingConsumer, waitFor } from '../../test/helpers.ts';
import { arrayOf, eventTime, int, mp, RawClient, startForward } from './testkit.ts';
import type { FluentForwardReceiver } from './receiver.ts';

const started: FluentForwardReceiver[] = [];
const clients: RawClient[] = [];
afterEach(async () => {
  clients.splice(0).forEach((c) => c.end());
  await Promise.all(started.splice(0).map((r) => r.shutdown()));
});

async function setup(cfg: Parameters<typeof startForward>[1] = {}) {
  const sink = new RecordingConsumer();
  const lines: string[] = [];
  const s = await startForward(sink, cfg, lines);
  started.push(s.r);
  const connect = async () => {
    const c = await RawClient.connect(s.port);
    clients.push(c);
    return c;
  };
  return { ...s, sink, lines, connect };
}

const counter = (metrics: { sum(name: string): number }, name: string) => metrics.sum(name);

describe('fluentforward: modes and mapping', () => {
  it('Message mode with EventTime: tag, body from log, other keys as typed attributes', async () => {
    const { sink, connect } = await setup();
    const c = await connect();
    const rec = mp({ log: 'GET /admin 403', status: 403, ratio: 0.5, ok: false, nested: { a: 'b' }, list: ['x', 1] });
    c.write(arrayOf(mp('app.access'), eventTime(1_700_000_000, 123_456_789), rec, mp({ chunk: 'c1' })));
    expect(await c.read()).toEqual(new Map([['ack', 'c1']]));
    const [r] = sink.logRecords;
    expect(r!.body).toBe('GET /admin 403');
    expect(r!.timeUnixNano).toBe(1_700_000_000_123_456_789n);
    expect(getAttr(r!.attributes, 'fluent.tag')).toBe('app.access');
    expect(getAttr(r!.attributes, 'status')).toBe(403n);
    expect(getAttr(r!.attributes, 'ratio')).toBe(0.5);
    expect(getAttr(r!.attributes, 'ok')).toBe(false);
    expect(getAttr(r!.attributes, 'nested')).toEqual(new KvList([{ key: 'a', value: 'b' }]));
    expect(getAttr(r!.attributes, 'list')).toEqual(['x', 1n]);
    expect(sink.logPayloads[0]!.client?.address).toBe('127.0.0.1');
  });

  it('Forward mode, integer times, `message` as the body', async () => {
    const { sink, connect } = await setup();
    const c = await connect();
    const entries = Buffer.concat([Buffer.from([0x92]), arrayOf(int(1_700_000_001), mp({ message: 'one' })), arrayOf(int(1_700_000_002), mp({ message: 'two' }))]);
    c.write(arrayOf(mp('fwd'), entries, mp({ chunk: 'c2', size: 2 })));
    expect(await c.read()).toEqual(new Map([['ack', 'c2']]));
    expect(sink.logRecords.map((r) => [r.body, r.timeUnixNano])).toEqual([
      ['one', 1_700_000_001_000_000_000n],
      ['two', 1_700_000_002_000_000_000n],
    ]);
  });

  it('PackedForward and CompressedPackedForward (gzip), in one write and split byte by byte', async () => {
    const { sink, connect } = await setup();
    const c = await connect();
    const stream = Buffer.concat(Array.from({ length: 50 }, (_, i) => arrayOf(eventTime(1_700_000_000 + i, 0), mp({ log: `line ${i}` }))));
    c.write(arrayOf(mp('packed'), mp(stream), mp({ chunk: 'p1' })));
    expect(await c.read()).toEqual(new Map([['ack', 'p1']]));
    const gz = arrayOf(mp('gz'), mp(gzipSync(stream)), mp({ chunk: 'p2', compressed: 'gzip' }));
    for (const b of gz) c.write(Buffer.from([b]));
    expect(await c.read()).toEqual(new Map([['ack', 'p2']]));
    expect(sink.logRecords).toHaveLength(100);
    expect(sink.logRecords[99]!.body).toBe('line 49');
    expect(getAttr(sink.logRecords[99]!.attributes, 'fluent.tag')).toBe('gz');
  });

  it('PackedForward entries in a str (old Fluentd) are read as bytes, not UTF-8', async () => {
    const { sink, connect } = await setup();
    const c = await connect();
    // EventTime's bytes (0xd7, 0x00, …) are not valid UTF-8 text.
    const stream = Buffer.concat([arrayOf(eventTime(1_700_000_000, 0xfffff), mp({ log: 'from str' }))]);
    const strHeader = stream.length <= 31 ? Buffer.from([0xa0 | stream.length]) : Buffer.from([0xd9, stream.length]);
    c.write(arrayOf(mp('old'), Buffer.concat([strHeader, stream]), mp({ chunk: 's1' })));
    expect(await c.read()).toEqual(new Map([['ack', 's1']]));
    expect(sink.logRecords[0]!.body).toBe('from str');
    expect(sink.logRecords[0]!.timeUnixNano).toBe(1_700_000_000_001_048_575n);
  });

  it('a message without chunk is not acked; many messages in one write all arrive in order', async () => {
    const { sink, connect } = await setup();
    const c = await connect();
    c.write(Buffer.concat(Array.from({ length: 20 }, (_, i) => arrayOf(mp('t'), int(1_700_000_000), mp({ log: `m${i}` })))));
    await waitFor(() => sink.logRecords.length === 20);
    expect(sink.logRecords.map((r) => r.body)).toEqual(Array.from({ length: 20 }, (_, i) => `m${i}`));
    c.write(arrayOf(mp('t'), int(1), mp({ log: 'last' }), mp({ chunk: 'after' })));
    expect(await c.read()).toEqual(new Map([['ack', 'after']]));
  });

  it('UDP heartbeat is answered', async () => {
    const { port } = await setup();
    const dgram = await import('node:dgram');
    const s = dgram.createSocket('udp4');
    const reply = new Promise<Buffer>((resolve) => s.once('message', (m) => resolve(m)));
    s.send(Buffer.from([0]), port, '127.0.0.1');
    expect(await reply).toEqual(Buffer.from([0]));
    s.close();
  });
});

describe('fluentforward: acks only after the pipeline accepted', () => {
  it('holds the ack and retries while the pipeline refuses, then acks', async () => {
    const { sink, connect } = await setup();
    sink.failWith = new RefusedError('memory limit', 'memory_limit', 1);
    const c = await connect();
    c.write(arrayOf(mp('t'), int(1_700_000_000), mp({ log: 'held' }), mp({ chunk: 'h1' })));
    await expect(c.read(700)).rejects.toThrow(/timed out/);
    sink.failWith = undefined;
    expect(await c.read(5000)).toEqual(new Map([['ack', 'h1']]));
    expect(sink.logRecords.map((r) => r.body)).toEqual(['held']);
  });
});

describe('fluentforward: bad input', () => {
  it('a malformed message is refused with a counter and no ack; the connection goes on', async () => {
    const { sink, connect, metrics } = await setup();
    const c = await connect();
    c.write(arrayOf(mp('t'), mp('not a time'), mp({ log: 'x' }), mp({ chunk: 'bad' })));
    c.write(arrayOf(mp('t'), int(1), mp(['not', 'a', 'map']), mp({ chunk: 'bad2' })));
    c.write(arrayOf(mp('t'), mp(Buffer.from([0x92, 0x01])), mp({ chunk: 'bad3' }))); // truncated packed entries
    c.write(arrayOf(mp('t'), int(1), mp({ log: 'good' }), mp({ chunk: 'good' })));
    expect(await c.read()).toEqual(new Map([['ack', 'good']]));
    expect(sink.logRecords.map((r) => r.body)).toEqual(['good']);
    expect(counter(metrics, 'trailhouse_receiver_malformed_messages')).toBe(3);
  });

  it('bytes that are not msgpack close the connection; others are unaffected', async () => {
    const { sink, connect } = await setup();
    const bad = await connect();
    const good = await connect();
    bad.write(Buffer.from([0xc1, 0x00, 0x00]));
    expect(await bad.waitClosed()).toBe(true);
    good.write(arrayOf(mp('t'), int(1), mp({ log: 'fine' }), mp({ chunk: 'g' })));
    expect(await good.read()).toEqual(new Map([['ack', 'g']]));
    expect(sink.logRecords).toHaveLength(1);
  });

  it('a message over chunk_size_limit closes the connection before it is read whole', async () => {
    const { sink, connect, lines } = await setup({ chunk_size_limit: 1024 });
    const c = await connect();
    // A str header announcing 1 MiB: refused from the header, without waiting for the bytes.
    c.write(Buffer.concat([Buffer.from([0x93]), mp('t'), Buffer.from([0xdb, 0x00, 0x10, 0x00, 0x00])]));
    expect(await c.waitClosed()).toBe(true);
    expect(lines.join('\n')).toMatch(/chunk_size_limit/);
    expect(sink.logRecords).toHaveLength(0);
  });

  it('many small messages in one write are not mistaken for one large one', async () => {
    const { sink, connect } = await setup({ chunk_size_limit: 1024 });
    const c = await connect();
    c.write(Buffer.concat(Array.from({ length: 200 }, (_, i) => arrayOf(mp('t'), int(1), mp({ log: `small ${i}` }), mp({ chunk: `k${i}` })))));
    for (let i = 0; i < 200; i++) expect(await c.read()).toEqual(new Map([['ack', `k${i}`]]));
    expect(sink.logRecords).toHaveLength(200);
  });

  it('a Forward-mode message growing past the limit entry by entry is refused', async () => {
    const { connect, sink } = await setup({ chunk_size_limit: 4096 });
    const c = await connect();
    c.write(Buffer.concat([Buffer.from([0x93]), mp('t'), Buffer.from([0xdc, 0x03, 0xe8])])); // 1000 entries announced
    for (let i = 0; i < 100 && !c.closed; i++) {
      c.write(arrayOf(int(1), mp({ log: 'x'.repeat(50) })));
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(await c.waitClosed()).toBe(true);
    expect(sink.logRecords).toHaveLength(0);
  });

  it('a gzip stream that inflates past the limit is refused', async () => {
    const { sink, connect, metrics } = await setup({ chunk_size_limit: 64 * 1024 });
    const c = await connect();
    const big = Buffer.concat(Array.from({ length: 2000 }, () => arrayOf(int(1), mp({ log: 'x'.repeat(100) }))));
    c.write(arrayOf(mp('t'), mp(gzipSync(big)), mp({ compressed: 'gzip', chunk: 'z' })));
    c.write(arrayOf(mp('t'), int(1), mp({ log: 'ok' }), mp({ chunk: 'ok' })));
    expect(await c.read()).toEqual(new Map([['ack', 'ok']]));
    expect(sink.logRecords.map((r) => r.body)).toEqual(['ok']);
    expect(counter(metrics, 'trailhouse_receiver_malformed_messages')).toBe(1);
  });

  it('nesting beyond the bound closes the connection, no stack overflow', async () => {
    const { connect } = await setup();
    const c = await connect();
    c.write(Buffer.concat([Buffer.from([0x93]), mp('t'), int(1), Buffer.alloc(100_000, 0x91)]));
    expect(await c.waitClosed()).toBe(true);
  });

  it('a sender that stops mid-message is closed after body_idle_timeout', async () => {
    const { connect } = await setup({ body_idle_timeout: 300 });
    const c = await connect();
    c.write(Buffer.concat([Buffer.from([0x93]), mp('t')]));
    expect(await c.waitClosed(3000)).toBe(true);
  });

  it('more records than max_records_per_request: refused, not acked', async () => {
    const { sink, connect } = await setup({ max_records_per_request: 5 });
    const c = await connect();
    const stream = Buffer.concat(Array.from({ length: 6 }, () => arrayOf(int(1), mp({ log: 'x' }))));
    c.write(arrayOf(mp('t'), mp(stream), mp({ chunk: 'many' })));
    c.write(arrayOf(mp('t'), mp(stream.subarray(0, stream.length / 2)), mp({ chunk: 'three' })));
    expect(await c.read()).toEqual(new Map([['ack', 'three']]));
    expect(sink.logRecords).toHaveLength(3);
  });
});

describe('fluentforward: shared-key handshake', () => {
  const security = { self_hostname: 'trailhouse', shared_key: 's3cret', user_auth: false, users: [] };
  const hex = (...parts: (string | Uint8Array)[]) => {
    const h = createHash('sha512');
    for (const p of parts) h.update(p);
    return h.digest('hex');
  };

  async function ping(key: string) {
    const env = await setup({ security });
    const c = await env.connect();
    const helo = (await c.read()) as unknown[];
    expect(helo[0]).toBe('HELO');
    const nonce = (helo[1] as Map<string, Uint8Array>).get('nonce')!;
    c.write(mp(['PING', 'fluent-bit-host', 'salt1', hex('salt1', 'fluent-bit-host', nonce, key), '', '']));
    const pong = (await c.read()) as unknown[];
    return { ...env, c, nonce, pong };
  }

  it('the right key gets a PONG the client can verify, then data flows', async () => {
    const { c, nonce, pong, sink } = await ping('s3cret');
    expect(pong.slice(0, 4)).toEqual(['PONG', true, '', 'trailhouse']);
    expect(pong[4]).toBe(hex('salt1', 'trailhouse', nonce, 's3cret'));
    c.write(arrayOf(mp('t'), int(1), mp({ log: 'authed' }), mp({ chunk: 'a' })));
    expect(await c.read()).toEqual(new Map([['ack', 'a']]));
    expect(sink.logPayloads[0]!.client?.auth?.subject).toBe('fluent-bit-host');
  });

  it('a wrong key gets PONG false and the connection closes; nothing is accepted', async () => {
    const { c, pong, sink, metrics } = await ping('wrong');
    expect(pong.slice(0, 3)).toEqual(['PONG', false, 'shared_key mismatch']);
    expect(await c.waitClosed()).toBe(true);
    expect(sink.logRecords).toHaveLength(0);
    expect(counter(metrics, 'trailhouse_receiver_auth_failures')).toBe(1);
  });

  it('data before the handshake is refused', async () => {
    const env = await setup({ security });
    const c = await env.connect();
    await c.read();
    c.write(arrayOf(mp('t'), int(1), mp({ log: 'sneaky' }), mp({ chunk: 's' })));
    const pong = (await c.read()) as unknown[];
    expect(pong[1]).toBe(false);
    expect(await c.waitClosed()).toBe(true);
    expect(env.sink.logRecords).toHaveLength(0);
  });
});
