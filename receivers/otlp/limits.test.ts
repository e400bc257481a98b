/**
 * Receive bounds under hostile clients (issue 15 §4): a body that stops
 * arriving, one client holding many unfinished bodies, a listener full of
 * them, too many connections, too many records, half-open gRPC streams. In
 * every case the hostile client is refused and another sender (another
 * loopback address) keeps getting 200 / OK.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { constants } from 'node:http2';
import { connect, type Socket } from 'node:net';
import { encodeLogsProto } from '../../core/otlp/index.ts';
import { receiveLimitDefaults, receivingBytes } from '../../core/inflight.ts';
import { defaultMemoryLimiterConfig } from '../../processors/memory_limiter/config.ts';
import { MemoryLimiterProcessor, forceGc, measureMemory } from '../../processors/memory_limiter/memory-limiter.ts';
import { MetricsRegistry } from '../../core/telemetry/metrics.ts';
import { RecordingConsumer, sampleLogs, sleep, testHost, testLogger, waitFor } from '../../test/helpers.ts';
import { grpcFrame, grpcSession, halfSentPost, postFrom, rawGrpcCall, type HalfSent } from '../../test/hostile-clients.ts';
import { OtlpReceiver } from './otlp.ts';
import { grpcDefaults, httpDefaults } from './config.ts';
import { LOGS_EXPORT } from './grpc.ts';

const KiB = 1024;
const MiB = 1024 * KiB;
const small = {
  max_inflight_bytes_per_client: 1 * MiB,
  max_inflight_bytes: 2 * MiB,
  body_idle_timeout: 400,
  max_connections: 20,
  max_records_per_request: 5,
};
const GOOD = encodeLogsProto(sampleLogs(3));

describe('OTLP receiver bounds against hostile clients', () => {
  const sink = new RecordingConsumer();
  let receiver: OtlpReceiver;
  let http = '';
  let grpcAddr = '';
  const open: Array<{ socket: Socket } | HalfSent> = [];

  beforeAll(async () => {
    receiver = new OtlpReceiver(
      {
        id: 'otlp',
        config: {
          protocols: {
            grpc: { ...grpcDefaults(), endpoint: '127.0.0.1:0', ...small },
            http: { ...httpDefaults(), endpoint: '127.0.0.1:0', max_request_body_size: 4 * MiB, ...small },
          },
        },
        logger: testLogger(),
        metrics: new MetricsRegistry(),
      },
      { logs: sink, traces: sink, bytesOnly: { logs: true, traces: true } },
    );
    await receiver.start(testHost());
    http = receiver.http!.address;
    grpcAddr = receiver.grpc!.address;
  });
  afterEach(async () => {
    for (const o of open.splice(0)) o.socket.destroy();
    await waitFor(() => receivingBytes() === 0, 5000, 'in-flight bytes given back');
  });
  afterAll(() => receiver.shutdown());

  it('drops a body that stops arriving with 408 after body_idle_timeout, and gives its bytes back', async () => {
    const hog = await halfSentPost(http, '/v1/logs', 1 * MiB, 100 * KiB);
    open.push(hog);
    await waitFor(() => receivingBytes() >= 100 * KiB, 2000, 'body held');
    const t0 = Date.now();
    const answer = await hog.answer;
    expect(answer).not.toBe('closed');
    expect((answer as { status: number }).status).toBe(408);
    expect((answer as { headers: Record<string, string> }).headers.connection).toBe('close');
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(receivingBytes()).toBe(0);
  });

  it('an answer given before the body is read (404, 415) closes the connection instead of reading the rest', async () => {
    for (const [path, type] of [['/v1/unknown', 'application/x-protobuf'], ['/v1/logs', 'text/plain']] as const) {
      const hog = await halfSentPost(http, path, 1 * MiB, 10 * KiB, '127.0.0.1', type);
      open.push(hog);
      const closed = new Promise((r) => hog.socket.once('close', r));
      expect((await hog.answer as { status: number }).status).toBe(path === '/v1/unknown' ? 404 : 415);
      await closed;
    }
  });

  it('a body trickling in, each piece within the idle timeout, still completes', async () => {
    const body = Buffer.from(GOOD);
    const trickle = await halfSentPost(http, '/v1/logs', body.length, 0);
    open.push(trickle);
    for (let i = 0; i < body.length; i += Math.ceil(body.length / 4)) {
      trickle.socket.write(body.subarray(i, i + Math.ceil(body.length / 4)));
      await sleep(150);
    }
    expect((await trickle.answer as { status: number }).status).toBe(200);
  });

  it('refuses the client holding too many unfinished bytes with 429 + Retry-After; another client still gets 200', async () => {
    const first = await halfSentPost(http, '/v1/logs', 1 * MiB, 700 * KiB);
    open.push(first);
    await waitFor(() => receivingBytes() >= 700 * KiB, 2000, 'first body held');
    const second = await halfSentPost(http, '/v1/logs', 1 * MiB, 500 * KiB);
    open.push(second);
    const refused = await second.answer;
    expect(refused).toMatchObject({ status: 429, headers: { 'retry-after': '5', connection: 'close' } });
    expect((refused as { body: string }).body).toMatch(/max_inflight_bytes_per_client/);
    const other = await postFrom(http, '/v1/logs', GOOD, '127.0.0.2');
    expect(other.status).toBe(200);
  });

  it('refuses with 503 + Retry-After when the listener holds too much; a small request from another client still fits', async () => {
    for (const from of ['127.0.0.3', '127.0.0.4']) {
      const h = await halfSentPost(http, '/v1/logs', 1 * MiB, 900 * KiB, from);
      open.push(h);
    }
    await waitFor(() => receivingBytes() >= 1800 * KiB, 2000, 'two bodies held');
    const third = await halfSentPost(http, '/v1/logs', 1 * MiB, 400 * KiB, '127.0.0.5');
    open.push(third);
    expect(await third.answer).toMatchObject({ status: 503, headers: { 'retry-after': '5' } });
    expect((await postFrom(http, '/v1/logs', GOOD, '127.0.0.2')).status).toBe(200);
  });

  it('closes connections beyond max_connections at once; the listener serves again once they go', async () => {
    const sockets: Socket[] = [];
    for (let i = 0; i < small.max_connections; i++) {
      const [host, port] = [http.split(':')[0]!, Number(http.split(':')[1])];
      const s = connect({ host, port });
      s.on('error', () => {});
      await new Promise((r) => s.once('connect', r));
      sockets.push(s);
      open.push({ socket: s });
    }
    await sleep(100);
    const extra = await halfSentPost(http, '/v1/logs', GOOD.length, 0);
    extra.socket.write(GOOD);
    expect(await extra.answer).toBe('closed');
    for (const s of sockets) s.destroy();
    await sleep(100);
    expect((await postFrom(http, '/v1/logs', GOOD, '127.0.0.1')).status).toBe(200);
  });

  it('refuses a request of more than max_records_per_request records: HTTP 413, gRPC INVALID_ARGUMENT', async () => {
    const big = encodeLogsProto(sampleLogs(small.max_records_per_request + 1));
    const over = await postFrom(http, '/v1/logs', big, '127.0.0.1');
    expect(over.status).toBe(413);
    expect(over.body).toMatch(/max_records_per_request 5/);
    expect((await postFrom(http, '/v1/logs', encodeLogsProto(sampleLogs(small.max_records_per_request)), '127.0.0.1')).status).toBe(200);
    const session = grpcSession(grpcAddr);
    try {
      const r = await rawGrpcCall(session, LOGS_EXPORT, grpcFrame(big), true);
      expect(r.status).toBe(3);
      expect((await rawGrpcCall(session, LOGS_EXPORT, grpcFrame(GOOD), true)).status).toBe(0);
    } finally {
      session.close();
    }
  });

  it('resets a gRPC stream whose message stops arriving (CANCEL after body_idle_timeout)', async () => {
    const session = grpcSession(grpcAddr);
    try {
      const stalled = rawGrpcCall(session, LOGS_EXPORT, grpcFrame(Buffer.alloc(64 * KiB, 0x0a), 2 * MiB), false);
      await waitFor(() => receivingBytes() >= 64 * KiB, 2000, 'stream bytes held');
      const r = await stalled;
      expect(r.rstCode).toBe(constants.NGHTTP2_CANCEL);
      expect(receivingBytes()).toBe(0);
    } finally {
      session.close();
    }
  });

  it('resets the gRPC stream of a client over its in-flight share (RESOURCE_EXHAUSTED); another client gets OK', async () => {
    const hog = grpcSession(grpcAddr);
    const other = grpcSession(grpcAddr, '127.0.0.2');
    try {
      const first = rawGrpcCall(hog, LOGS_EXPORT, grpcFrame(Buffer.alloc(700 * KiB, 0x0a), 3 * MiB), false);
      await waitFor(() => receivingBytes() >= 600 * KiB, 2000, 'first stream held');
      const second = await rawGrpcCall(hog, LOGS_EXPORT, grpcFrame(Buffer.alloc(500 * KiB, 0x0a), 3 * MiB), false);
      expect(second.rstCode).toBe(constants.NGHTTP2_ENHANCE_YOUR_CALM);
      expect((await rawGrpcCall(other, LOGS_EXPORT, grpcFrame(GOOD), true)).status).toBe(0);
      await first;
    } finally {
      hog.close();
      other.close();
    }
  });
});

describe('records per request on the decoding path', () => {
  it('a request of 200 000 empty records (400 KB) is refused with 413 / INVALID_ARGUMENT before anything is decoded', async () => {
    const sink = new RecordingConsumer();
    const receiver = new OtlpReceiver(
      {
        id: 'otlp',
        config: { protocols: { grpc: { ...grpcDefaults(), endpoint: '127.0.0.1:0' }, http: { ...httpDefaults(), endpoint: '127.0.0.1:0' } } },
        logger: testLogger(),
        metrics: new MetricsRegistry(),
      },
      { logs: sink, traces: sink, bytesOnly: { logs: false, traces: false } },
    );
    await receiver.start(testHost());
    const n = 200_000;
    const records = Buffer.alloc(n * 2);
    for (let i = 0; i < n; i++) records[i * 2] = 0x12;
    const scope = Buffer.concat([Buffer.from([0x12, 0x80, 0xb5, 0x18]), records]); // length 400 000 as a varint
    const body = Buffer.concat([Buffer.from([0x0a, 0x84, 0xb5, 0x18]), scope]);
    try {
      const r = await postFrom(receiver.http!.address, '/v1/logs', body, '127.0.0.1');
      expect(r.status).toBe(413);
      expect(r.body).toMatch(/200000 log records exceeds max_records_per_request 100000/);
      const session = grpcSession(receiver.grpc!.address);
      expect((await rawGrpcCall(session, LOGS_EXPORT, grpcFrame(body), true)).status).toBe(3);
      session.close();
      expect(sink.logPayloads).toHaveLength(0);
    } finally {
      await receiver.shutdown();
    }
  });
});

describe('half-sent bodies and the memory limiter', () => {
  it('80 MiB held by four clients\' unfinished bodies do not make the limiter refuse another sender; the hog alone is refused', async () => {
    const sink = new RecordingConsumer();
    const bounds = { ...receiveLimitDefaults(), max_inflight_bytes_per_client: 32 * MiB, max_inflight_bytes: 128 * MiB };
    const behind: { limiter?: MemoryLimiterProcessor } = {};
    const receiver = new OtlpReceiver(
      { id: 'otlp', config: { protocols: { grpc: null, http: { ...httpDefaults(), endpoint: '127.0.0.1:0', ...bounds } } }, logger: testLogger(), metrics: new MetricsRegistry() },
      { logs: { consumeLogs: (d) => behind.limiter!.consumeLogs(d) }, traces: sink, bytesOnly: { logs: true, traces: true } },
    );
    await receiver.start(testHost());
    const http = receiver.http!.address;
    forceGc();
    // The soft limit sits 48 MiB above what the process uses now: the 80 MiB of
    // unfinished bodies below would cross it if the limiter counted them.
    const soft = Math.ceil(measureMemory() / MiB) + 48;
    const limiter = (behind.limiter = new MemoryLimiterProcessor(
      { id: 'memory_limiter', config: { ...defaultMemoryLimiterConfig(), check_interval: 60_000, limit_mib: soft + 16, spike_limit_mib: 16 }, logger: testLogger(), metrics: new MetricsRegistry() },
      { logs: sink },
    ));
    await limiter.start();
    const hogs: HalfSent[] = [];
    try {
      for (const from of ['127.0.0.11', '127.0.0.12', '127.0.0.13', '127.0.0.14']) {
        hogs.push(await halfSentPost(http, '/v1/logs', 20 * MiB, 20 * MiB - 100, from));
      }
      await waitFor(() => receivingBytes() >= 80 * MiB - 400, 10_000, 'the hogs\' bodies held');
      limiter.check();
      const r = await postFrom(http, '/v1/logs', GOOD, '127.0.0.2');
      expect(r.status).toBe(200);
      // Another body from a client already holding 20 MiB goes over its 32 MiB share: refused to it alone.
      const more = await halfSentPost(http, '/v1/logs', 20 * MiB, 20 * MiB - 100, '127.0.0.11');
      hogs.push(more);
      expect(await more.answer).toMatchObject({ status: 429, headers: { 'retry-after': '5' } });
    } finally {
      for (const h of hogs) h.socket.destroy();
      await limiter.shutdown();
      await receiver.shutdown();
    }
  }, 60_000);
});
