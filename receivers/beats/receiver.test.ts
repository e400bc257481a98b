/**
 * The beats receiver with Elastic's go-lumber v2 client (the library behind
 * Filebeat's Logstash output, built with Go: scripts/peers/lumber-send),
 * plain and TLS with client certificates; plus raw Lumberjack bytes for what
 * a well-behaved client never sends: ACK timing against the pipeline,
 * partial ACKs, refusal and retry, v1 data frames, and protocol errors.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, type Socket } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { deflateSync } from 'node:zlib';
import { RefusedError } from '../../core/errors.ts';
import { getAttr } from '../../core/model.ts';
import type { LogsPayload } from '../../core/payload.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { RecordingConsumer, sleep, testLogger, waitFor } from '../../test/helpers.ts';
import { ENVOY_JSON_LINE, expectEnvoyJsonClassified } from '../../test/shipper-classify.ts';
import { ensureLumberSend, lumberSend } from '../../scripts/peers/lumber-send/build.ts';
import { defaultBeatsConfig, validateBeats, type BeatsReceiverConfig } from './config.ts';
import { BeatsReceiver } from './receiver.ts';

const tlsDir = path.join(path.dirname(fileURLToPath(import.meta.url)), '../../test/testdata/tls');

/** A consumer that can hold payloads until released, or refuse the next n. */
class Gate extends RecordingConsumer {
  held: (() => void)[] = [];
  hold = false;
  refuseNext = 0;
  override async consumeLogs(p: LogsPayload): Promise<void> {
    if (this.refuseNext > 0) {
      this.refuseNext--;
      throw new RefusedError('memory limit reached', 'memory_limit', 1);
    }
    if (this.hold) await new Promise<void>((r) => this.held.push(r));
    return super.consumeLogs(p);
  }
  release(): void {
    this.hold = false;
    for (const r of this.held.splice(0)) r();
  }
}

function start(consumer: RecordingConsumer, over: Partial<BeatsReceiverConfig> = {}, metrics = new MetricsRegistry()) {
  const config = { ...defaultBeatsConfig(), endpoint: '127.0.0.1:0', ...over };
  return new BeatsReceiver({ id: 'beats', config, logger: testLogger(), metrics }, { logs: consumer });
}

/** A Filebeat event for one line of a file. */
const filebeat = (message: string, i = 0) => ({
  '@timestamp': '2024-05-14T09:12:03.456789Z',
  '@metadata': { beat: 'filebeat', type: '_doc', version: '8.14.0' },
  message,
  log: { offset: i * 100, file: { path: '/var/log/envoy/access.log' } },
  host: { name: 'node-1' },
  fields: { env: 'prod' },
  tags: ['mesh'],
});

// ---- raw Lumberjack bytes
const u32 = (n: number) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
const W = (n: number, v = '2') => Buffer.concat([Buffer.from(v + 'W'), u32(n)]);
const J = (seq: number, o: unknown) => { const p = Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)); return Buffer.concat([Buffer.from('2J'), u32(seq), u32(p.length), p]); };
const C = (inner: Buffer) => { const z = deflateSync(inner); return Buffer.concat([Buffer.from('2C'), u32(z.length), z]); };
const D = (seq: number, pairs: [string, string][]) =>
  Buffer.concat([Buffer.from('1D'), u32(seq), u32(pairs.length), ...pairs.flatMap(([k, v]) => [u32(Buffer.byteLength(k)), Buffer.from(k), u32(Buffer.byteLength(v)), Buffer.from(v)])]);

/** A raw connection that collects the ACK sequence numbers it is sent. */
async function raw(address: string): Promise<{ sock: Socket; acks: number[]; closed: Promise<void> }> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  const sock = connect(port, host);
  await new Promise<void>((r, j) => sock.once('connect', r).once('error', j));
  const acks: number[] = [];
  let buf = Buffer.alloc(0);
  sock.on('data', (c: Buffer) => {
    buf = Buffer.concat([buf, c]);
    while (buf.length >= 6) {
      expect(buf.subarray(0, 2).toString()).toMatch(/^[12]A$/);
      acks.push(buf.readUInt32BE(2));
      buf = buf.subarray(6);
    }
  });
  sock.on('error', () => {});
  const closed = new Promise<void>((r) => sock.once('close', () => r()));
  return { sock, acks, closed };
}

let lumber = '';
beforeAll(async () => {
  lumber = await ensureLumberSend();
}, 600_000);

describe('beats receiver with go-lumber', () => {
  const consumer = new RecordingConsumer();
  const metrics = new MetricsRegistry();
  const receiver = start(consumer, {}, metrics);
  beforeAll(() => receiver.start());
  afterAll(() => receiver.shutdown());

  it('compressed windows: every event ACKed once stored, mapped as Filebeat sends it; Envoy JSON classified', async () => {
    consumer.logPayloads = [];
    const events = [filebeat(ENVOY_JSON_LINE), ...Array.from({ length: 249 }, (_, i) => filebeat(`line ${i + 1}`, i + 1))];
    expect(await lumberSend(lumber, receiver.address, events, ['-batch', '100'])).toEqual({ acked: 250 });
    const rs = consumer.logRecords;
    expect(rs.map((r) => r.body)).toEqual(events.map((e) => e.message));
    const r = rs[1]!;
    expect(r.timeUnixNano).toBe(1_715_677_923_456_789_000n);
    expect(getAttr(r.attributes, 'log.file.path')).toBe('/var/log/envoy/access.log');
    expect(getAttr(r.attributes, 'log.offset')).toBe(100n);
    expect(getAttr(r.attributes, 'host.name')).toBe('node-1');
    expect(getAttr(r.attributes, '@metadata.beat')).toBe('filebeat');
    expect(getAttr(r.attributes, 'fields.env')).toBe('prod');
    expect(getAttr(r.attributes, 'tags')).toEqual(['mesh']);
    expectEnvoyJsonClassified(rs[0]!);
    expect(consumer.logPayloads[0]!.client!.address).toBe('127.0.0.1');
    expect(metrics.sum('otelcol_receiver_accepted_log_records', { receiver: 'beats' })).toBe(250);
  });

  it('uncompressed JSON frames', async () => {
    consumer.logPayloads = [];
    expect(await lumberSend(lumber, receiver.address, [filebeat('a'), filebeat('b'), filebeat('c')], ['-compress', '0', '-batch', '2'])).toEqual({ acked: 3 });
    expect(consumer.logRecords.map((r) => r.body)).toEqual(['a', 'b', 'c']);
  });
});

describe('beats receiver ACK rules', () => {
  const gate = new Gate();
  const receiver = start(gate, { max_batch_records: 10, keepalive_interval: 200 });
  beforeAll(() => receiver.start());
  afterAll(() => receiver.shutdown());

  it('no ACK before the pipeline accepted; keep-alive ACKs meanwhile; partial ACKs per batch', async () => {
    gate.logPayloads = [];
    gate.hold = true;
    const c = await raw(receiver.address);
    c.sock.write(Buffer.concat([W(25), C(Buffer.concat(Array.from({ length: 25 }, (_, i) => J(i + 1, { message: `m${i}` }))))]));
    await waitFor(() => gate.held.length === 1, 5000, 'the first batch with the pipeline');
    await sleep(700);
    expect(c.acks.length).toBeGreaterThanOrEqual(2);
    expect(c.acks.every((a) => a === 0)).toBe(true);
    gate.release();
    await waitFor(() => c.acks.includes(25), 5000, 'the final ACK');
    expect(c.acks.filter((a) => a > 0)).toEqual([10, 20, 25]);
    expect(gate.logRecords.map((r) => r.body)).toEqual(Array.from({ length: 25 }, (_, i) => `m${i}`));
    c.sock.destroy();
  });

  it('a refused batch is offered again and ACKed only when accepted (go-lumber sees every event ACKed)', async () => {
    gate.logPayloads = [];
    gate.refuseNext = 2;
    expect(await lumberSend(lumber, receiver.address, [filebeat('x'), filebeat('y')], ['-timeout', '5s'])).toEqual({ acked: 2 });
    expect(gate.logRecords.map((r) => r.body)).toEqual(['x', 'y']);
  });

  it('go-lumber with a 1s timeout survives a pipeline that takes 3s (keep-alive ACKs)', async () => {
    gate.logPayloads = [];
    gate.hold = true;
    setTimeout(() => gate.release(), 3000);
    expect(await lumberSend(lumber, receiver.address, [filebeat('slow')], ['-timeout', '1s'])).toEqual({ acked: 1 });
    expect(gate.logRecords.map((r) => r.body)).toEqual(['slow']);
  });
});

describe('beats receiver, raw frames and bad input', () => {
  const consumer = new RecordingConsumer();
  const metrics = new MetricsRegistry();
  const receiver = start(consumer, { max_message_size: 4096, max_window_size: 100 }, metrics);
  beforeAll(() => receiver.start());
  afterAll(() => receiver.shutdown());

  it('v1 data frames: line as body, the rest as attributes, ACKed in v1', async () => {
    consumer.logPayloads = [];
    const c = await raw(receiver.address);
    c.sock.write(Buffer.concat([W(2, '1'), D(1, [['line', 'hello v1'], ['file', '/var/log/a.log']]), D(2, [['line', 'second']])]));
    await waitFor(() => c.acks.includes(2), 5000, 'ACK 2');
    const [a, b] = consumer.logRecords;
    expect(a!.body).toBe('hello v1');
    expect(getAttr(a!.attributes, 'file')).toBe('/var/log/a.log');
    expect(b!.body).toBe('second');
    c.sock.destroy();
  });

  it('a JSON frame that is not an object is kept as text with the reason, and ACKed', async () => {
    consumer.logPayloads = [];
    const c = await raw(receiver.address);
    c.sock.write(Buffer.concat([W(2), J(1, '{"message":'), J(2, '[1]')]));
    await waitFor(() => c.acks.includes(2), 5000, 'ACK 2');
    expect(consumer.logRecords.map((r) => [r.body, getAttr(r.attributes, 'beats.decode_error')])).toEqual([
      ['{"message":', expect.stringMatching(/not JSON/)],
      ['[1]', 'the JSON frame is not an object'],
    ]);
    expect(metrics.sum('trailhouse_beats_receiver_undecodable_events')).toBe(2);
    c.sock.destroy();
  });

  it('protocol errors close the connection, unACKed, counted; other senders go on', async () => {
    const bad: Buffer[] = [
      Buffer.from('3W\0\0\0\x01'), // unknown version
      Buffer.from('2Z\0\0\0\x01'), // unknown frame type
      Buffer.from('2A\0\0\0\x01'), // an ACK from the sender
      J(1, { message: 'no window' }), // event before a window
      W(1000), // window over max_window_size
      Buffer.concat([W(1), J(1, { message: 'x'.repeat(5000) })]), // frame over max_message_size
      Buffer.concat([W(1), C(Buffer.alloc(100_000, 0x32))]), // inflates beyond max_message_size
      Buffer.concat([W(1), C(Buffer.from('2J\0\0'))]), // compressed frame ends inside a frame
      Buffer.concat([W(1), C(C(J(1, { message: 'nested' })))]), // nested compression
      Buffer.concat([W(1), J(1, { message: 'a' }), J(2, { message: 'b' })]), // more events than the window
    ];
    const before = metrics.sum('trailhouse_beats_receiver_protocol_errors');
    consumer.logPayloads = [];
    for (const b of bad) {
      const c = await raw(receiver.address);
      c.sock.write(b);
      await c.closed;
      expect(c.acks.filter((a) => a > 1)).toEqual([]);
    }
    expect(metrics.sum('trailhouse_beats_receiver_protocol_errors') - before).toBe(bad.length);
    // Only the one complete window (1 event) of the last case was stored; nothing else.
    expect(consumer.logRecords.map((r) => r.body)).toEqual(['a']);
    expect(await lumberSend(lumber, receiver.address, [filebeat('still serving')])).toEqual({ acked: 1 });
  });

  it('config: a non-loopback endpoint needs client certificates or insecure', () => {
    const base = { ...defaultBeatsConfig(), endpoint: '0.0.0.0:5044' };
    expect(validateBeats(base)[0]!.message).toMatch(/client_ca_file/);
    expect(validateBeats({ ...base, insecure: true })).toEqual([]);
    expect(validateBeats({ ...base, tls: { cert_file: 'a', key_file: 'b', client_ca_file: 'c', min_version: '1.2' } })).toEqual([]);
  });
});

describe('beats receiver over TLS with client certificates', () => {
  const consumer = new RecordingConsumer();
  const receiver = start(consumer, {
    tls: { cert_file: path.join(tlsDir, 'server.crt'), key_file: path.join(tlsDir, 'server.key'), client_ca_file: path.join(tlsDir, 'ca.crt'), min_version: '1.2' },
  });
  beforeAll(() => receiver.start());
  afterAll(() => receiver.shutdown());

  it('go-lumber with a client certificate: its SPIFFE id is the sender; a stranger is refused', async () => {
    const ca = ['-ca', path.join(tlsDir, 'ca.crt')];
    const ok = await lumberSend(lumber, receiver.address, [filebeat('over tls')], [...ca, '-cert', path.join(tlsDir, 'client.crt'), '-key', path.join(tlsDir, 'client.key')]);
    expect(ok).toEqual({ acked: 1 });
    expect(consumer.logPayloads[0]!.client!.auth).toMatchObject({ subject: 'spiffe://cluster.local/ns/default/sa/checkout', authenticator: 'tls' });
    const stranger = await lumberSend(lumber, receiver.address, [filebeat('nope')], [...ca, '-cert', path.join(tlsDir, 'stranger.crt'), '-key', path.join(tlsDir, 'stranger.key'), '-timeout', '3s']);
    expect(stranger.acked).toBe(0);
    expect(stranger.error).toBeTruthy();
    expect(consumer.logRecords.map((r) => r.body)).toEqual(['over tls']);
  });
});
